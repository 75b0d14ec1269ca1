import { caseTable, runCases } from "../support/ValidationCases.ts"

runCases("Website", caseTable("Website"))

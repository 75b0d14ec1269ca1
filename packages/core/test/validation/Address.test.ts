import { caseTable, runCases } from "../support/ValidationCases.ts"

runCases("Address", caseTable("Address"))

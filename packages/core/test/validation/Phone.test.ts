import { caseTable, runCases } from "../support/ValidationCases.ts"

runCases("Phone", caseTable("Phone"))

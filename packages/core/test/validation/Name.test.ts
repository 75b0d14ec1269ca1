import { caseTable, runCases } from "../support/ValidationCases.ts"

runCases("Name", caseTable("Name"))

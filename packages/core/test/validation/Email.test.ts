import { caseTable, runCases } from "../support/ValidationCases.ts"

runCases("Email", caseTable("Email"))

import { caseTable, runCases } from "../support/ValidationCases.ts"

runCases("Domain", caseTable("Domain"))

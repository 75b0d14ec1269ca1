import { caseTable, runCases } from "../support/ValidationCases.ts"

runCases("Linkedin", caseTable("Linkedin"))

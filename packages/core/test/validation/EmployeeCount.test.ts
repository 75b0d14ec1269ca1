import { caseTable, runCases } from "../support/ValidationCases.ts"

runCases("EmployeeCount", caseTable("EmployeeCount"))

import { caseTable, runCases } from "../support/ValidationCases.ts"

runCases("BartonId", caseTable("BartonId"))

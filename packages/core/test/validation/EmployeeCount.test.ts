import { runCases } from "../support/ValidationCases.ts"
import { cases } from "./EmployeeCount.cases.ts"

runCases("EmployeeCount", cases)

/**
 * A company's employee count: empty, or a whole number of at least 0.
 */
import type { SyncValue } from "../Projection.ts"
import { describeValue } from "./FieldText.ts"
import type { Verdict } from "./Verdict.ts"
import { fail, pass } from "./Verdict.ts"

export const checkEmployeeCount = (value: SyncValue): Verdict => {
  if (value === null) return pass()
  if (typeof value !== "number") {
    return fail("WRONG_TYPE", `holds ${describeValue(value)}, not a number: write a whole number, e.g. 250`)
  }
  if (!Number.isSafeInteger(value)) {
    return fail(
      "INVALID_EMPLOYEE_COUNT",
      `not a whole number (${value}): write the number of employees, e.g. 250`
    )
  }
  if (value < 0) {
    return fail(
      "NEGATIVE_EMPLOYEE_COUNT",
      `negative (${value}): write the number of employees (0 or more), or leave it empty when unknown`
    )
  }
  return pass()
}

/**
 * Barton IDs (`NN.NN.NN.NN.NNNNN.NNN`): the key of every record, and a person's `company_unique_id`.
 */
import type { Read } from "./FieldText.ts"
import type { Verdict } from "./Verdict.ts"
import { fail, pass, wrongType } from "./Verdict.ts"

const bartonPattern = /^\d{2}\.\d{2}\.\d{2}\.\d{2}\.\d{5}\.\d{3}$/
const bartonExample = "NN.NN.NN.NN.NNNNN.NNN, e.g. 04.04.01.01.00101.101"

/** Whether `text` is a Barton ID (`NN.NN.NN.NN.NNNNN.NNN`). */
export const isBartonId = (text: string): boolean => bartonPattern.test(text)

export const checkKey = (read: Read, label: string): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, "04.04.01.01.00101.101")
  if (read.kind === "absent") {
    return fail("INVALID_BARTON_ID", `empty or blank: write the ${label}'s Barton ID, ${bartonExample}`)
  }
  return isBartonId(read.text)
    ? pass()
    : fail("INVALID_BARTON_ID", `not a Barton ID: write it in the form ${bartonExample}`)
}

/** A person's `company_unique_id`: empty, or a Barton ID. */
export const checkCompanyId = (read: Read): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, "04.04.01.01.00101.101")
  if (read.kind === "absent" || isBartonId(read.text)) return pass()
  return fail(
    "INVALID_COMPANY_ID",
    `not a Barton ID: write the company's company_unique_id, ${bartonExample}, or leave it empty`
  )
}

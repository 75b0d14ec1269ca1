/**
 * The state table: the two-letter codes of the US states, DC and the territories, with their names.
 */

/** Code -> name, lower case. */
export const stateNames: { readonly [code: string]: string } = {
  AL: "alabama",
  AK: "alaska",
  AZ: "arizona",
  AR: "arkansas",
  CA: "california",
  CO: "colorado",
  CT: "connecticut",
  DE: "delaware",
  DC: "district of columbia",
  FL: "florida",
  GA: "georgia",
  HI: "hawaii",
  ID: "idaho",
  IL: "illinois",
  IN: "indiana",
  IA: "iowa",
  KS: "kansas",
  KY: "kentucky",
  LA: "louisiana",
  ME: "maine",
  MD: "maryland",
  MA: "massachusetts",
  MI: "michigan",
  MN: "minnesota",
  MS: "mississippi",
  MO: "missouri",
  MT: "montana",
  NE: "nebraska",
  NV: "nevada",
  NH: "new hampshire",
  NJ: "new jersey",
  NM: "new mexico",
  NY: "new york",
  NC: "north carolina",
  ND: "north dakota",
  OH: "ohio",
  OK: "oklahoma",
  OR: "oregon",
  PA: "pennsylvania",
  RI: "rhode island",
  SC: "south carolina",
  SD: "south dakota",
  TN: "tennessee",
  TX: "texas",
  UT: "utah",
  VT: "vermont",
  VA: "virginia",
  WA: "washington",
  WV: "west virginia",
  WI: "wisconsin",
  WY: "wyoming",
  AS: "american samoa",
  GU: "guam",
  MP: "northern mariana islands",
  PR: "puerto rico",
  VI: "u.s. virgin islands",
  UM: "u.s. minor outlying islands"
}

/** The two-letter codes of the US states, DC and the territories. */
export const usStateCodes: ReadonlyArray<string> = Object.keys(stateNames)

export const stateByName = new Map<string, string>([
  ...Object.entries(stateNames).map(([code, name]): [string, string] => [name, code]),
  ["washington dc", "DC"],
  ["washington d.c.", "DC"],
  ["virgin islands", "VI"],
  ["us virgin islands", "VI"]
])

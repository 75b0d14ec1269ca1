/**
 * The words the demo data is made of: West Virginia towns (with a real ZIP code of each), counties, rivers
 * and ridges, trades by industry, streets, and Appalachian first and last names.
 *
 * Invariant: every ZIP code here is a West Virginia one (24701 to 26886) and every list is non-empty, so
 * the generator can index any of them with a random fraction.
 */

/** A town: its name, county and one of its ZIP codes (a few more are derived by adding 1 to 8). */
export interface Town {
  readonly city: string
  readonly county: string
  readonly zip: number
  /** how many consecutive ZIP codes from `zip` the town plausibly spans */
  readonly zipSpan: number
}

export const towns: ReadonlyArray<Town> = [
  { city: "Morgantown", county: "Monongalia", zip: 26501, zipSpan: 8 },
  { city: "Charleston", county: "Kanawha", zip: 25301, zipSpan: 9 },
  { city: "Huntington", county: "Cabell", zip: 25701, zipSpan: 5 },
  { city: "Wheeling", county: "Ohio", zip: 26003, zipSpan: 1 },
  { city: "Parkersburg", county: "Wood", zip: 26101, zipSpan: 4 },
  { city: "Fairmont", county: "Marion", zip: 26554, zipSpan: 1 },
  { city: "Clarksburg", county: "Harrison", zip: 26301, zipSpan: 2 },
  { city: "Martinsburg", county: "Berkeley", zip: 25401, zipSpan: 4 },
  { city: "Beckley", county: "Raleigh", zip: 25801, zipSpan: 2 },
  { city: "Bluefield", county: "Mercer", zip: 24701, zipSpan: 1 },
  { city: "Princeton", county: "Mercer", zip: 24740, zipSpan: 1 },
  { city: "Elkins", county: "Randolph", zip: 26241, zipSpan: 1 },
  { city: "Lewisburg", county: "Greenbrier", zip: 24901, zipSpan: 1 },
  { city: "Weirton", county: "Hancock", zip: 26062, zipSpan: 1 },
  { city: "Buckhannon", county: "Upshur", zip: 26201, zipSpan: 1 },
  { city: "Shepherdstown", county: "Jefferson", zip: 25443, zipSpan: 1 },
  { city: "Charles Town", county: "Jefferson", zip: 25414, zipSpan: 1 },
  { city: "Logan", county: "Logan", zip: 25601, zipSpan: 1 },
  { city: "Oak Hill", county: "Fayette", zip: 25901, zipSpan: 1 },
  { city: "Summersville", county: "Nicholas", zip: 26651, zipSpan: 1 },
  { city: "Keyser", county: "Mineral", zip: 26726, zipSpan: 1 },
  { city: "Petersburg", county: "Grant", zip: 26847, zipSpan: 1 },
  { city: "Romney", county: "Hampshire", zip: 26757, zipSpan: 1 },
  { city: "Moorefield", county: "Hardy", zip: 26836, zipSpan: 1 },
  { city: "Philippi", county: "Barbour", zip: 26416, zipSpan: 1 },
  { city: "Grafton", county: "Taylor", zip: 26354, zipSpan: 1 },
  { city: "Kingwood", county: "Preston", zip: 26537, zipSpan: 1 },
  { city: "Point Pleasant", county: "Mason", zip: 25550, zipSpan: 1 },
  { city: "Ripley", county: "Jackson", zip: 25271, zipSpan: 1 },
  { city: "Spencer", county: "Roane", zip: 25276, zipSpan: 1 },
  { city: "Williamson", county: "Mingo", zip: 25661, zipSpan: 1 },
  { city: "Welch", county: "McDowell", zip: 24801, zipSpan: 1 },
  { city: "Hinton", county: "Summers", zip: 25951, zipSpan: 1 },
  { city: "Bridgeport", county: "Harrison", zip: 26330, zipSpan: 1 },
  { city: "South Charleston", county: "Kanawha", zip: 25303, zipSpan: 1 },
  { city: "St. Albans", county: "Kanawha", zip: 25177, zipSpan: 1 },
  { city: "Nitro", county: "Kanawha", zip: 25143, zipSpan: 1 },
  { city: "Vienna", county: "Wood", zip: 26105, zipSpan: 1 },
  { city: "Ravenswood", county: "Jackson", zip: 26164, zipSpan: 1 },
  { city: "New Martinsville", county: "Wetzel", zip: 26155, zipSpan: 1 },
  { city: "Moundsville", county: "Marshall", zip: 26041, zipSpan: 1 },
  { city: "Wellsburg", county: "Brooke", zip: 26070, zipSpan: 1 },
  { city: "Sistersville", county: "Tyler", zip: 26175, zipSpan: 1 },
  { city: "Fayetteville", county: "Fayette", zip: 25840, zipSpan: 1 },
  { city: "Davis", county: "Tucker", zip: 26260, zipSpan: 1 },
  { city: "Marlinton", county: "Pocahontas", zip: 24954, zipSpan: 1 },
  { city: "Franklin", county: "Pendleton", zip: 26807, zipSpan: 1 },
  { city: "Berkeley Springs", county: "Morgan", zip: 25411, zipSpan: 1 },
  { city: "Madison", county: "Boone", zip: 25130, zipSpan: 1 },
  { city: "Sutton", county: "Braxton", zip: 26601, zipSpan: 1 }
]

/** Name-giving places that are not towns: regions, rivers, ridges, nicknames. */
export const landmarks: ReadonlyArray<string> = [
  "Mountaineer",
  "Allegheny",
  "Appalachian",
  "Blue Ridge",
  "Kanawha Valley",
  "Ohio Valley",
  "New River",
  "Greenbrier",
  "Tygart Valley",
  "Cheat River",
  "Potomac Highlands",
  "Mon Valley",
  "Little Kanawha",
  "Elk River",
  "Seneca Rocks",
  "Coal River",
  "Guyandotte",
  "Mountain State",
  "Almost Heaven",
  "Spruce Knob",
  "Gauley",
  "Shenandoah",
  "Big Sandy",
  "Tug Fork"
]

/** An industry and the trades (name endings) of companies in it. */
export interface Industry {
  readonly name: string
  readonly trades: ReadonlyArray<string>
  /** a typical head count range */
  readonly employees: readonly [number, number]
}

export const industries: ReadonlyArray<Industry> = [
  {
    name: "Healthcare",
    trades: ["Family Medicine", "Dental Group", "Physical Therapy", "Pharmacy", "Home Health"],
    employees: [4, 420]
  },
  {
    name: "Construction",
    trades: ["Builders", "Roofing", "Excavating", "Paving", "Concrete"],
    employees: [3, 180]
  },
  {
    name: "Manufacturing",
    trades: ["Glass Works", "Machine Shop", "Steel Fabricators", "Woodworks", "Pottery"],
    employees: [8, 950]
  },
  {
    name: "Retail",
    trades: ["Hardware", "Outfitters", "Furniture", "Farm Supply", "Feed & Seed"],
    employees: [2, 75]
  },
  {
    name: "Hospitality",
    trades: ["Diner", "Inn", "Coffee Roasters", "Brewing Company", "Catering"],
    employees: [3, 120]
  },
  {
    name: "Energy",
    trades: ["Energy Services", "Gas & Oil", "Solar", "Power Systems"],
    employees: [10, 800]
  },
  {
    name: "Mining",
    trades: ["Coal Company", "Aggregates", "Mining Supply", "Limestone"],
    employees: [12, 900]
  },
  { name: "Legal Services", trades: ["Law Offices", "Legal Group", "Title Company"], employees: [2, 60] },
  { name: "Accounting", trades: ["Tax & Accounting", "CPAs", "Bookkeeping"], employees: [2, 45] },
  { name: "Real Estate", trades: ["Realty", "Properties", "Land Company"], employees: [2, 40] },
  {
    name: "Transportation",
    trades: ["Trucking", "Freight Lines", "Towing", "Auto Parts"],
    employees: [3, 250]
  },
  { name: "Agriculture", trades: ["Orchards", "Farms", "Maple Syrup", "Cattle Company"], employees: [2, 35] },
  { name: "Insurance", trades: ["Insurance Agency", "Insurance Group"], employees: [2, 90] },
  {
    name: "Financial Services",
    trades: ["Federal Credit Union", "Savings Bank", "Financial Advisors"],
    employees: [5, 300]
  },
  { name: "Education", trades: ["Learning Center", "Academy", "Child Care"], employees: [4, 150] }
]

/** Company name endings after the trade. */
export const suffixes: ReadonlyArray<string> = [
  "",
  "",
  "",
  " LLC",
  " Inc.",
  " Co.",
  " & Sons",
  " Group",
  ", LLC",
  " Company"
]

export const streets: ReadonlyArray<string> = [
  "Main St",
  "High St",
  "Market St",
  "Walnut St",
  "Chestnut St",
  "Spruce St",
  "University Ave",
  "Locust Ave",
  "Mercer St",
  "Washington St",
  "Virginia St E",
  "Quarrier St",
  "Kanawha Blvd E",
  "Fairmont Ave",
  "Patrick St",
  "Jefferson St",
  "Beechurst Ave",
  "Mileground Rd",
  "Van Voorhis Rd",
  "Greenbag Rd",
  "Emerson Ave",
  "Pike St",
  "Court St",
  "US Route 19",
  "US Route 50",
  "WV-7",
  "Old Mill Rd",
  "Holler Rd",
  "Coal Camp Rd",
  "Industrial Park Rd"
]

export const firstNames: ReadonlyArray<string> = [
  "Billy",
  "Darlene",
  "Earl",
  "Loretta",
  "Wanda",
  "Dale",
  "Tammy",
  "Randy",
  "Brenda",
  "Jesse",
  "Hazel",
  "Homer",
  "Opal",
  "Clyde",
  "Ruby",
  "Virgil",
  "Rhonda",
  "Delbert",
  "Sherry",
  "Wayne",
  "Bonnie",
  "Curtis",
  "Peggy",
  "Jolene",
  "Travis",
  "Kayla",
  "Cody",
  "Ashley",
  "Dustin",
  "Brittany"
]

export const lastNames: ReadonlyArray<string> = [
  "McCoy",
  "Hatfield",
  "Byrd",
  "Riffe",
  "Shreve",
  "Mullins",
  "Tenney",
  "Hinkle",
  "Cutlip",
  "Wyatt",
  "Ashworth",
  "Blankenship",
  "Lilly",
  "Bailey",
  "Persinger",
  "Fleming",
  "Sizemore",
  "Kincaid",
  "Cochran",
  "Huffman",
  "Dotson",
  "Keener",
  "Hamrick",
  "Mollohan",
  "Shafer",
  "Hess",
  "Pauley",
  "Cyrus",
  "Jarrett",
  "Ours"
]

export const titles: ReadonlyArray<string> = [
  "Owner",
  "President",
  "CEO",
  "CFO",
  "Office Manager",
  "Operations Manager",
  "HR Director",
  "General Manager",
  "Practice Administrator",
  "Controller"
]

/** The two area codes of West Virginia (681 is the overlay of 304). */
export const areaCodes: ReadonlyArray<string> = ["304", "304", "304", "681"]

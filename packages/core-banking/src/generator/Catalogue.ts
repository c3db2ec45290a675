// The vocabulary of the synthetic data set: names, places, merchants, instruments. All
// invented (example.com addresses, made-up merchants and ISINs) so no generated row can be
// mistaken for a real person, business or security.
import type { Random } from "../Prng.ts"

export interface Country {
  readonly code: string
  readonly weight: number
  readonly language: string
  readonly callingCode: string
  readonly givenNames: ReadonlyArray<string>
  readonly familyNames: ReadonlyArray<string>
  readonly cities: ReadonlyArray<string>
  readonly streets: ReadonlyArray<string>
  /** House number after the street ("Hauptstraße 12") or before it ("12 rue de la Paix"). */
  readonly numberFirst: boolean
  /** A postal code in the country's format. */
  readonly postalCode: (rng: Random) => string
}

const digits = (rng: Random, length: number, min = 0) => String(rng.int(min, 10 ** length - 1)).padStart(length, "0")
const letter = (rng: Random) => String.fromCharCode(rng.int(65, 90))

export const countries: ReadonlyArray<Country> = [
  {
    code: "DE",
    weight: 34,
    language: "de",
    callingCode: "49",
    numberFirst: false,
    givenNames: [
      "Anna",
      "Lukas",
      "Mia",
      "Leon",
      "Hannah",
      "Felix",
      "Lena",
      "Jonas",
      "Marie",
      "Paul",
      "Sophie",
      "Maximilian",
      "Jürgen",
      "Ursula",
      "Katrin",
      "Stefan"
    ],
    familyNames: [
      "Müller",
      "Schmidt",
      "Schneider",
      "Fischer",
      "Weber",
      "Meyer",
      "Wagner",
      "Becker",
      "Schulz",
      "Hoffmann",
      "Koch",
      "Richter",
      "Wolf",
      "Neumann"
    ],
    cities: [
      "Berlin",
      "Hamburg",
      "München",
      "Köln",
      "Frankfurt am Main",
      "Stuttgart",
      "Leipzig",
      "Dresden",
      "Bremen",
      "Nürnberg"
    ],
    streets: [
      "Hauptstraße",
      "Bahnhofstraße",
      "Gartenweg",
      "Lindenallee",
      "Schillerstraße",
      "Goethestraße",
      "Am Markt",
      "Bergstraße"
    ],
    postalCode: (rng) => digits(rng, 5, 1067)
  },
  {
    code: "FR",
    weight: 15,
    language: "fr",
    callingCode: "33",
    numberFirst: true,
    givenNames: [
      "Camille",
      "Louis",
      "Léa",
      "Hugo",
      "Chloé",
      "Gabriel",
      "Manon",
      "Arthur",
      "Inès",
      "Jules",
      "Élodie",
      "Théo"
    ],
    familyNames: [
      "Martin",
      "Bernard",
      "Dubois",
      "Thomas",
      "Robert",
      "Richard",
      "Petit",
      "Durand",
      "Leroy",
      "Moreau",
      "Lefèvre",
      "Garnier"
    ],
    cities: ["Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Bordeaux", "Lille", "Strasbourg"],
    streets: [
      "rue de la République",
      "avenue Jean Jaurès",
      "rue Victor Hugo",
      "boulevard Voltaire",
      "rue des Lilas",
      "place de la Mairie"
    ],
    postalCode: (rng) => digits(rng, 5, 1000)
  },
  {
    code: "NL",
    weight: 10,
    language: "nl",
    callingCode: "31",
    numberFirst: false,
    givenNames: ["Emma", "Daan", "Julia", "Sem", "Tess", "Lucas", "Sanne", "Bram", "Fleur", "Thijs"],
    familyNames: [
      "de Jong",
      "Jansen",
      "de Vries",
      "van den Berg",
      "Bakker",
      "Visser",
      "Smit",
      "Meijer",
      "de Boer",
      "Mulder"
    ],
    cities: ["Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen"],
    streets: ["Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenstraat", "Prinsengracht", "Julianalaan"],
    postalCode: (rng) => `${digits(rng, 4, 1000)} ${letter(rng)}${letter(rng)}`
  },
  {
    code: "ES",
    weight: 10,
    language: "es",
    callingCode: "34",
    numberFirst: false,
    givenNames: ["Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Pablo", "Valeria", "Álvaro", "Carmen", "Javier"],
    familyNames: [
      "García",
      "Fernández",
      "González",
      "Rodríguez",
      "López",
      "Martínez",
      "Sánchez",
      "Pérez",
      "Gómez",
      "Ruiz"
    ],
    cities: ["Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Bilbao"],
    streets: ["Calle Mayor", "Calle Real", "Avenida de la Constitución", "Calle del Sol", "Paseo de Gracia"],
    postalCode: (rng) => digits(rng, 5, 1001)
  },
  {
    code: "IT",
    weight: 10,
    language: "it",
    callingCode: "39",
    numberFirst: false,
    givenNames: [
      "Giulia",
      "Leonardo",
      "Sofia",
      "Francesco",
      "Aurora",
      "Alessandro",
      "Chiara",
      "Lorenzo",
      "Giorgia",
      "Matteo"
    ],
    familyNames: ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"],
    cities: ["Roma", "Milano", "Napoli", "Torino", "Bologna", "Firenze", "Genova"],
    streets: ["Via Roma", "Via Garibaldi", "Corso Italia", "Via Mazzini", "Via Dante", "Piazza del Duomo"],
    postalCode: (rng) => digits(rng, 5, 10)
  },
  {
    code: "IE",
    weight: 8,
    language: "en",
    callingCode: "353",
    numberFirst: true,
    givenNames: ["Aoife", "Conor", "Saoirse", "Seán", "Niamh", "Cian", "Ciara", "Darragh", "Emma", "Jack"],
    familyNames: ["Murphy", "Kelly", "O'Sullivan", "Walsh", "Smith", "O'Brien", "Byrne", "Ryan", "O'Connor", "Doyle"],
    cities: ["Dublin", "Cork", "Galway", "Limerick", "Waterford"],
    streets: ["Main Street", "Church Road", "Strand Road", "Castle Street", "Harbour View"],
    postalCode: (rng) => `${letter(rng)}${digits(rng, 2)} ${letter(rng)}${digits(rng, 3)}`
  },
  {
    code: "AT",
    weight: 8,
    language: "de-AT",
    callingCode: "43",
    numberFirst: false,
    givenNames: ["Lena", "Tobias", "Sarah", "Florian", "Laura", "David", "Johanna", "Elias", "Valentina", "Sebastian"],
    familyNames: ["Gruber", "Huber", "Bauer", "Wagner", "Pichler", "Steiner", "Moser", "Mayer", "Hofer", "Leitner"],
    cities: ["Wien", "Graz", "Linz", "Salzburg", "Innsbruck"],
    streets: ["Hauptplatz", "Mariahilfer Straße", "Landstraße", "Kirchengasse", "Ringstraße"],
    postalCode: (rng) => digits(rng, 4, 1010)
  },
  {
    code: "BE",
    weight: 5,
    language: "nl-BE",
    callingCode: "32",
    numberFirst: false,
    givenNames: ["Noah", "Olivia", "Louis", "Elise", "Arthur", "Lotte", "Victor", "Marie"],
    familyNames: ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens"],
    cities: ["Antwerpen", "Gent", "Brugge", "Leuven", "Brussel"],
    streets: ["Kerkstraat", "Stationsstraat", "Nieuwstraat", "Grote Markt", "Molenstraat"],
    postalCode: (rng) => digits(rng, 4, 1000)
  }
]

/** Spending and income, with a median amount in EUR cents (converted for other currencies). */
export interface Merchant {
  readonly name: string
  readonly category: string
  readonly medianCents: number
}

const merchants = (category: string, medianCents: number, names: ReadonlyArray<string>): ReadonlyArray<Merchant> =>
  names.map((name) => ({ name, category, medianCents }))

export const everydaySpending: ReadonlyArray<readonly [ReadonlyArray<Merchant>, number]> = [
  [
    merchants("groceries", 3800, [
      "Fresh Market",
      "Green Basket",
      "Corner Grocer",
      "Daily Harvest",
      "FreshCo Supermarkt"
    ]),
    10
  ],
  [merchants("dining", 2400, ["Café Central", "Trattoria Sole", "Noodle House", "The Brass Kettle", "Burger Lab"]), 6],
  [merchants("transport", 2200, ["City Transit", "QuickRide", "Fuel Stop", "RailLink Tickets", "ParkSmart"]), 5],
  [merchants("shopping", 5500, ["Urban Outfit", "HomeStyle", "TechWorld", "Bookshelf & Co", "Sportique"]), 3],
  [merchants("entertainment", 2800, ["CinemaPlex", "Live Arena Tickets", "GameVault", "Museum Pass"]), 2],
  [merchants("health", 3500, ["Pharmacy Plus", "Dental Care Centre", "Vision Opticians"]), 1],
  [merchants("cash", 10000, ["ATM withdrawal"]), 1]
]

export const cardSpending: ReadonlyArray<readonly [ReadonlyArray<Merchant>, number]> = [
  [merchants("shopping", 7500, ["Urban Outfit", "HomeStyle", "TechWorld", "Marketplace Online", "Sportique"]), 6],
  [merchants("dining", 4500, ["Café Central", "Trattoria Sole", "Sushi Garden", "Le Petit Bistro"]), 5],
  [merchants("travel", 21000, ["SkyWays Airlines", "Harbour Hotel", "RentACar Europe", "Alpine Rail"]), 2],
  [merchants("subscriptions", 1299, ["StreamFlix", "MusicBox", "CloudDrive", "NewsDaily"]), 3],
  [merchants("entertainment", 3500, ["Live Arena Tickets", "GameVault", "CinemaPlex"]), 2]
]

export const subscriptions: ReadonlyArray<Merchant> = merchants("subscriptions", 1199, [
  "StreamFlix",
  "MusicBox",
  "FitClub Membership",
  "CloudDrive",
  "NewsDaily"
])
export const utilities: ReadonlyArray<Merchant> = merchants("utilities", 9500, [
  "CityPower Energy",
  "AquaWorks Water",
  "FiberNet Broadband",
  "MobileOne"
])
export const insurers: ReadonlyArray<string> = ["SafeHome Insurance", "Guardian Mutual", "Velo Insure"]
export const employers: ReadonlyArray<string> = [
  "Northwind Logistics",
  "Contoso Health",
  "Fabrikam Engineering",
  "Tailspin Media",
  "Litware Software",
  "Adventure Works Retail",
  "Proseware Consulting",
  "Wide World Importers",
  "City Council",
  "University Hospital"
]
export const landlords: ReadonlyArray<string> = [
  "Parkside Properties",
  "Urban Living Lettings",
  "Riverside Housing Co-op",
  "M. Keller (landlord)"
]

export interface Instrument {
  readonly isin: string
  readonly symbol: string
  readonly name: string
  readonly assetClass: "equity" | "etf" | "bond" | "fund"
  readonly currency: string
  /** Starting price of one unit, minor units; the generator walks it from here. */
  readonly basePrice: number
}

export const instruments: ReadonlyArray<Instrument> = [
  {
    isin: "IE00DEMO0011",
    symbol: "GLOB",
    name: "Demo Global Equity UCITS ETF",
    assetClass: "etf",
    currency: "EUR",
    basePrice: 9850
  },
  {
    isin: "IE00DEMO0029",
    symbol: "EUSX",
    name: "Demo Euro Stoxx Tracker ETF",
    assetClass: "etf",
    currency: "EUR",
    basePrice: 4720
  },
  {
    isin: "LU00DEMO0037",
    symbol: "GRBD",
    name: "Demo Green Bond Fund",
    assetClass: "bond",
    currency: "EUR",
    basePrice: 10230
  },
  {
    isin: "DE00DEMO0045",
    symbol: "NWLG",
    name: "Northwind Logistics AG",
    assetClass: "equity",
    currency: "EUR",
    basePrice: 6315
  },
  {
    isin: "DE00DEMO0052",
    symbol: "FBEN",
    name: "Fabrikam Engineering SE",
    assetClass: "equity",
    currency: "EUR",
    basePrice: 14480
  },
  {
    isin: "FR00DEMO0060",
    symbol: "TLSP",
    name: "Tailspin Media SA",
    assetClass: "equity",
    currency: "EUR",
    basePrice: 2890
  },
  {
    isin: "LU00DEMO0078",
    symbol: "BALF",
    name: "Demo Balanced Allocation Fund",
    assetClass: "fund",
    currency: "EUR",
    basePrice: 12760
  },
  {
    isin: "US00DEMO0086",
    symbol: "LTWR",
    name: "Litware Software Inc.",
    assetClass: "equity",
    currency: "USD",
    basePrice: 31250
  },
  {
    isin: "US00DEMO0094",
    symbol: "CNTH",
    name: "Contoso Health Corp.",
    assetClass: "equity",
    currency: "USD",
    basePrice: 8815
  },
  {
    isin: "US00DEMO0102",
    symbol: "USTK",
    name: "Demo US Total Market ETF",
    assetClass: "etf",
    currency: "USD",
    basePrice: 24590
  },
  {
    isin: "US00DEMO0110",
    symbol: "TBND",
    name: "Demo Treasury Bond ETF",
    assetClass: "bond",
    currency: "USD",
    basePrice: 9640
  }
]

export const wishListProducts: ReadonlyArray<string> = [
  "savings_plus",
  "gold_card",
  "platinum_card",
  "personal_loan",
  "mortgage",
  "green_mortgage",
  "brokerage",
  "retirement_plan",
  "travel_insurance",
  "home_insurance",
  "junior_account"
]

export const interestTopics: ReadonlyArray<string> = [
  "travel",
  "investing",
  "home",
  "cars",
  "education",
  "sustainability",
  "retirement",
  "family",
  "sports",
  "technology",
  "dining",
  "culture"
]

// The profile document of one customer, compiled from the customer master (identity, contact
// data, address, segment, KYC, roles, log-in name), the CRM (preferences, interests, wish list)
// and the product systems (a summary of what the customer holds):
//
//   { customerId, name, email, phone, address, dateOfBirth, segment, kyc, roles, username,
//     loginStatus, preferences, interests: { travel: 80 }, wishList: { gold_card: {...} },
//     products: { "deposits:12": { line, type, currency, status } }, asOf,
//     sources: { "<schema>.<table>[:<key>]": position } }
//
// Each source row owns some paths of the document and has its own position in `sources`: a
// change applies only when its position is newer than the row's (the document store's `guard`),
// so redeliveries and changes that arrive out of order (a crashed consumer's entries claimed
// late) never overwrite newer facts, and deletes leave their position behind as a tombstone.
// Pure: which paths a row sets, and as what; the projector and the PostgreSQL assembler both
// use it, so they can only agree.
import type { Cdc } from "@bank/contracts"
import { Cdc as CdcContract } from "@bank/contracts"
import { JsonPath } from "@bank/platform"

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/** `16/B374D848`, 3 → `00000016B374D848:0000000003`: positions that compare as strings. */
export const encodePosition = (position: Cdc.Position): string =>
  `${CdcContract.lsnToBigInt(position.commitLsn).toString(16).toUpperCase().padStart(16, "0")}:${String(position.seq).padStart(10, "0")}`

const PG_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(?:\+00(?::00)?|Z)$/
/** PostgreSQL's UTC timestamptz text as ISO-8601 with microseconds. */
export const isoTime = (text: string | null | undefined): string | null => {
  if (text == null) return null
  const m = PG_TIMESTAMP.exec(text)
  return m ? `${m[1]}T${m[2]}.${(m[3] ?? "").padEnd(6, "0")}Z` : text
}

/** PostgreSQL's text of a text[] without quoting (`{customer,premium}`). */
export const parseArray = (text: string | null | undefined): Array<string> =>
  text == null || text === "{}"
    ? []
    : text
        .slice(1, -1)
        .split(",")
        .map((s) => s.replace(/^"(.*)"$/, "$1"))

const bool = (text: string | null | undefined): boolean | null =>
  text == null ? null : text === "t" || text === "true"

export const productTables: Readonly<Record<string, { readonly id: string; readonly type?: string }>> = {
  "deposits.accounts": { id: "account_id" },
  "cards.cards": { id: "card_id", type: "credit_card" },
  "lending.loans": { id: "loan_id" },
  "investments.accounts": { id: "account_id" }
}

export interface RowPaths {
  /** This row's key in `sources`. */
  readonly source: string
  /** What the row puts in the document. */
  readonly sets: ReadonlyArray<readonly [JsonPath.Path, Json]>
  /** What a delete of the row takes out. */
  readonly owns: ReadonlyArray<JsonPath.Path>
}

/** The paths a row of `schema.table` owns and, for a live row, their values; undefined for tables the profile ignores. */
export const rowPaths = (schema: string, table: string, row: Cdc.Row): RowPaths | undefined => {
  const name = `${schema}.${table}`
  switch (name) {
    case "customer.customers": {
      const sets: Array<readonly [JsonPath.Path, Json]> = [
        [["name"], { given: row.given_name ?? null, family: row.family_name ?? null }],
        [["email"], row.email ?? null],
        [["phone"], row.phone ?? null],
        [
          ["address"],
          {
            line1: row.address_line1 ?? null,
            line2: row.address_line2 ?? null,
            postalCode: row.postal_code ?? null,
            city: row.city ?? null,
            country: row.country ?? null
          }
        ],
        [["dateOfBirth"], row.date_of_birth ?? null],
        [["segment"], row.segment ?? null],
        [["kyc"], { status: row.kyc_status ?? null, reviewedAt: isoTime(row.kyc_reviewed_at) }],
        [["roles"], parseArray(row.roles)]
      ]
      return { source: name, sets, owns: sets.map(([path]) => path) }
    }
    case "customer.credentials":
      return {
        source: name,
        sets: [
          [["username"], row.username ?? null],
          [["loginStatus"], row.status ?? null]
        ],
        owns: [["username"], ["loginStatus"]]
      }
    case "crm.preferences":
      return {
        source: name,
        sets: [
          [
            ["preferences"],
            {
              language: row.language ?? null,
              theme: row.theme ?? null,
              marketing: {
                email: bool(row.marketing_email),
                sms: bool(row.marketing_sms),
                push: bool(row.marketing_push)
              },
              consentUpdatedAt: isoTime(row.consent_updated_at)
            }
          ]
        ],
        owns: [["preferences"]]
      }
    case "crm.wish_list_items": {
      const path = ["wishList", row.product_code ?? ""]
      return {
        source: `${name}:${row.product_code}`,
        sets: [[path, { note: row.note ?? null, addedAt: isoTime(row.added_at) }]],
        owns: [path]
      }
    }
    case "crm.interests": {
      const path = ["interests", row.interest ?? ""]
      return {
        source: `${name}:${row.interest}`,
        sets: [[path, row.score == null ? null : Number(row.score)]],
        owns: [path]
      }
    }
    default: {
      const product = productTables[name]
      if (!product) return undefined
      const path = ["products", `${schema}:${row[product.id]}`]
      return {
        source: `${name}:${row[product.id]}`,
        sets: [
          [
            path,
            {
              line: schema,
              type: product.type ?? row.product ?? null,
              currency: row.currency ?? null,
              status: row.status ?? null
            }
          ]
        ],
        owns: [path]
      }
    }
  }
}

/** The columns each table contributes (what PgProfile selects). */
export const tableColumns: Readonly<Record<string, ReadonlyArray<string>>> = {
  "customer.customers": [
    "given_name",
    "family_name",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "date_of_birth",
    "segment",
    "kyc_status",
    "kyc_reviewed_at",
    "roles"
  ],
  "customer.credentials": ["username", "status"],
  "crm.preferences": ["language", "theme", "marketing_email", "marketing_sms", "marketing_push", "consent_updated_at"],
  "crm.wish_list_items": ["product_code", "note", "added_at"],
  "crm.interests": ["interest", "score"],
  "deposits.accounts": ["account_id", "product", "currency", "status"],
  "cards.cards": ["card_id", "currency", "status"],
  "lending.loans": ["loan_id", "product", "currency", "status"],
  "investments.accounts": ["account_id", "product", "currency", "status"]
}
export const timeColumns: ReadonlySet<string> = new Set(["kyc_reviewed_at", "consent_updated_at", "added_at"])

/** A plain document from rows (PgProfile's side): the same paths the projector writes. */
export const build = (
  customerId: string,
  rows: ReadonlyArray<{ readonly table: string; readonly row: Cdc.Row }>
): Record<string, Json> => {
  const doc: Record<string, any> = { customerId }
  for (const { table, row } of rows) {
    const [schema, name] = table.split(".") as [string, string]
    for (const [path, value] of rowPaths(schema, name, row)?.sets ?? []) {
      let at = doc
      for (const segment of path.slice(0, -1)) at = at[segment] ??= {}
      at[path.at(-1)!] = value
    }
  }
  return doc
}

const isEmptyObject = (v: unknown) =>
  v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0

/**
 * What reconciliation compares: everything but the projector's bookkeeping, and without the
 * empty maps the last delete of an interest, wish or product leaves behind.
 */
export const content = (doc: Record<string, unknown>): Record<string, unknown> => {
  const { sources: _s, asOf: _a, lastUpdate: _l, ...rest } = doc
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => !isEmptyObject(v)))
}

export const pathText = (path: JsonPath.Path): string => JsonPath.format(path)

/** Fields `GET /v1/profile?fields=` may ask for. */
export const fields = [
  "customerId",
  "name",
  "email",
  "phone",
  "address",
  "dateOfBirth",
  "segment",
  "kyc",
  "roles",
  "username",
  "loginStatus",
  "preferences",
  "interests",
  "wishList",
  "products",
  "asOf",
  "lastUpdate"
] as const

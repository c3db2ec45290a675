// The profile routes as the OpenAPI document describes them, and the profile document's Schema
// (what the projection writes: Profile.ts; the route serves the stored text).
import { Profile as ProfileContract } from "@bank/contracts"
import {
  consistencyTokenRequest,
  consistencyTokenResponse,
  DateOnly,
  DateTime,
  type Operation,
  operation
} from "@bank/http"
import { Schema } from "effect"
import { fields } from "./Profile.ts"
import { EmailConfirmation } from "./ProfileRoutes.ts"

const Text = Schema.NullOr(Schema.String)

// Every field optional: `?fields=` answers only those asked for.
export const ProfileDocument = Schema.Struct({
  customerId: Schema.optionalKey(Schema.String),
  name: Schema.optionalKey(Schema.Struct({ given: Text, family: Text })),
  email: Schema.optionalKey(Text),
  phone: Schema.optionalKey(Text),
  address: Schema.optionalKey(Schema.Struct({ line1: Text, line2: Text, postalCode: Text, city: Text, country: Text })),
  dateOfBirth: Schema.optionalKey(Schema.NullOr(DateOnly)),
  segment: Schema.optionalKey(Text),
  kyc: Schema.optionalKey(Schema.Struct({ status: Text, reviewedAt: Schema.NullOr(DateTime) })),
  roles: Schema.optionalKey(Schema.Array(Schema.String)),
  username: Schema.optionalKey(Text),
  loginStatus: Schema.optionalKey(Text),
  preferences: Schema.optionalKey(
    Schema.Struct({
      language: Text,
      theme: Text,
      marketing: Schema.Struct({
        email: Schema.NullOr(Schema.Boolean),
        sms: Schema.NullOr(Schema.Boolean),
        push: Schema.NullOr(Schema.Boolean)
      }),
      consentUpdatedAt: Schema.NullOr(DateTime)
    })
  ),
  interests: Schema.optionalKey(Schema.Record(Schema.String, Schema.NullOr(Schema.Number))),
  wishList: Schema.optionalKey(
    Schema.Record(Schema.String, Schema.Struct({ note: Text, addedAt: Schema.NullOr(DateTime) }))
  ),
  products: Schema.optionalKey(
    Schema.Record(
      Schema.String,
      Schema.Struct({ line: Schema.String, type: Text, currency: Text, status: Text })
    ).annotate({
      description: "What you hold, keyed by account id."
    })
  ),
  asOf: Schema.optionalKey(Schema.NullOr(DateTime)),
  lastUpdate: Schema.optionalKey(
    Schema.Struct({
      requestId: Schema.String,
      status: Schema.Literals(["applied", "rejected", "pending-verification"]),
      reason: Schema.optionalKey(Schema.String),
      at: DateTime
    }).annotate({
      description:
        "The outcome of your latest PATCH /v1/profile or e-mail confirmation. A new e-mail address is " +
        "`pending-verification` until confirmed with the code sent to it; a wrong code and an address that cannot be " +
        "yours are both `rejected` with `verification-failed`."
    })
  )
}).annotate({ identifier: "Profile" })

export const ProfileUpdateAccepted = Schema.Struct({
  requestId: Schema.String,
  status: Schema.Literal("accepted")
}).annotate({ identifier: "ProfileUpdateAccepted" })

export const profileOperations: ReadonlyArray<Operation> = [
  operation({
    method: "get",
    path: "/v1/profile",
    operationId: "getProfile",
    tag: "Profile",
    summary: "Your profile",
    parameters: [
      { name: "fields", in: "query", description: `Only these fields, comma-separated: ${fields.join(", ")}.` },
      consistencyTokenRequest
    ],
    responses: {
      200: { description: "The profile document (only the asked fields with `fields`).", schema: ProfileDocument }
    },
    problems: ["ProfileNotFound", "UnknownProfileField", "InvalidConsistencyToken", "NotYetConsistent"]
  }),
  operation({
    method: "patch",
    path: "/v1/profile",
    operationId: "updateProfile",
    tag: "Profile",
    summary: "Change your contact data and preferences",
    description:
      "Written to the systems of record and shown once back through CDC; read it with the Consistency-Token. `lastUpdate` tells the outcome.",
    requestBody: ProfileContract.ProfileChanges.annotate({ identifier: "ProfileChanges" }),
    responses: { 202: { description: "Accepted.", schema: ProfileUpdateAccepted, headers: consistencyTokenResponse } },
    problems: ["StepUpRequired", "InvalidBody", "MalformedBody", "UnsupportedMediaType", "PayloadTooLarge"]
  }),
  operation({
    method: "post",
    path: "/v1/profile/email/confirm",
    operationId: "confirmEmail",
    tag: "Profile",
    summary: "Confirm a new e-mail address with the code sent to it",
    description:
      "The address of your latest e-mail change is written once the code matches; `lastUpdate` tells the outcome " +
      "(`applied`, or `rejected` with `verification-failed` for a wrong, expired or used-up code alike).",
    requestBody: EmailConfirmation.annotate({ identifier: "EmailConfirmation" }),
    responses: { 202: { description: "Accepted.", schema: ProfileUpdateAccepted, headers: consistencyTokenResponse } },
    problems: ["StepUpRequired", "InvalidBody", "MalformedBody", "UnsupportedMediaType", "PayloadTooLarge"]
  })
]

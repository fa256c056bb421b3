// A small program against salescore's generated TypeScript types: it lists opportunities,
// creates one, moves it and reads the pipeline report. It is compiled with
// `tsc --strict --noEmit`, never run (tests/clients/test_generated_clients.py writes
// `./salescore.ts` beside it with openapi-typescript, from the app's own OpenAPI document).
import type { operations } from "./salescore";

type Json<Content> = Content extends { content: { "application/json": infer Body } }
  ? Body
  : never;
/** The JSON answer of an operation, by its operation id. */
type Answer<Op extends keyof operations> = operations[Op]["responses"] extends {
  200: infer Ok;
}
  ? Json<Ok>
  : operations[Op]["responses"] extends { 201: infer Created }
    ? Json<Created>
    : never;
/** The JSON body an operation takes. */
type Body<Op extends keyof operations> = operations[Op] extends {
  requestBody?: infer Given;
}
  ? Json<NonNullable<Given>>
  : never;
type Query<Op extends keyof operations> = NonNullable<operations[Op]["parameters"]["query"]>;

const BASE_URL = "http://localhost:8000";
const API_KEY = "sck_your_api_key";

async function call<Op extends keyof operations>(
  _operation: Op,
  method: "GET" | "POST" | "PATCH",
  path: string,
  body?: Body<Op>,
): Promise<Answer<Op>> {
  const response = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const problem: { title: string; detail?: string } = await response.json();
    throw new Error(`${method} ${path}: ${response.status} ${problem.title} ${problem.detail ?? ""}`);
  }
  return (await response.json()) as Answer<Op>;
}

function query<Op extends keyof operations>(_operation: Op, values: Query<Op>): string {
  const given = Object.entries(values).filter(([, value]) => value !== undefined && value !== null);
  return new URLSearchParams(given.map(([key, value]) => [key, String(value)])).toString();
}

export async function tour(customerId: number, nextStageId: number): Promise<void> {
  const filters = query("listOpportunities", { status: "open", "amount[gte]": "1000.00", limit: 20 });
  const page = await call("listOpportunities", "GET", `/v1/opportunities?${filters}`);
  for (const opportunity of page.data) {
    // Money is a decimal string: parse it with a decimal type, never as a float.
    const amount: string = opportunity.amount;
    console.log(opportunity.id, opportunity.name, amount, opportunity.currency);
  }

  const deal: Body<"createOpportunity"> = {
    name: "Fleet licence 2027",
    customer_id: customerId,
    amount: "1250000.00",
    expected_close_date: "2027-01-31",
  };
  // @ts-expect-error a JSON number is not money: the spec says decimal string
  const wrong: Body<"createOpportunity"> = { name: "Wrong", customer_id: customerId, amount: 1250 };
  console.assert(wrong.name === "Wrong");
  const created = await call("createOpportunity", "POST", "/v1/opportunities", deal);

  const moved = await call("moveOpportunity", "POST", `/v1/opportunities/${created.id}/move`, {
    stage_id: nextStageId,
    probability: "60.00",
  });
  console.log(moved.stage_id, moved.probability, moved.weighted_amount, moved.version);

  const grouped = query("getPipelineReport", { group_by: "owner,stage" });
  const report = await call("getPipelineReport", "GET", `/v1/reports/pipeline?${grouped}`);
  for (const group of report.groups) {
    const owner = group.key["owner"];
    const name = owner !== null && typeof owner === "object" ? owner.name : "no owner";
    console.log(name, group.count, group.amount, group.weighted_amount);
  }
  console.log(report.currency, report.total.count, report.total.weighted_amount);
}

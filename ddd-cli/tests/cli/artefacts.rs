//! The documents and deployment files `ddd generate` writes beside the code: each service's
//! `openapi.json` and the monolith's (valid OpenAPI 3.1, the routes `ddd-service` serves),
//! `docs/asyncapi.yaml` (valid AsyncAPI 3.0, the bus subjects), the Dockerfiles,
//! `docker-compose.yml` and `deploy/k8s/`. The official schemas are vendored in
//! `tests/schemas/` (see its README) and nothing is fetched: a reference the vendored set does
//! not hold fails to compile instead.

use std::collections::BTreeSet;
use std::path::Path;

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Value, json};

use crate::SHOP;
use crate::harness::{Output, Test};

/// The shop's contexts in model order, with their directories and ports (8081 + index).
const CONTEXTS: [(&str, &str, u16); 5] = [
    ("Catalog", "catalog", 8081),
    ("Cart", "cart", 8082),
    ("Ordering", "ordering", 8083),
    ("Payments", "payments", 8084),
    ("Shipping", "shipping", 8085),
];

/// What the shop publishes: `(context, event)`.
const PUBLISHED: [(&str, &str); 12] = [
    ("Catalog", "ProductCreated"),
    ("Catalog", "PriceChanged"),
    ("Catalog", "ProductDiscontinued"),
    ("Catalog", "DealOpened"),
    ("Catalog", "DealClosed"),
    ("Cart", "CartCheckedOut"),
    ("Ordering", "OrderPlaced"),
    ("Ordering", "OrderPaid"),
    ("Ordering", "OrderCancelled"),
    ("Payments", "PaymentCaptured"),
    ("Payments", "PaymentRefunded"),
    ("Shipping", "ShipmentDispatched"),
];

fn shop() -> Output {
    Test::new()
        .file("shop.ddd", SHOP)
        .args(["generate", "shop.ddd", "--out", "out", "-q"])
        .success()
}

fn read(output: &Output, path: &str) -> String {
    std::fs::read_to_string(output.path("out").join(path))
        .unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn json_file(output: &Output, path: &str) -> Value {
    serde_json::from_str(&read(output, path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

pub(crate) fn yaml_file(output: &Output, path: &str) -> Value {
    serde_saphyr::from_str(&read(output, path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn vendored(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The official OpenAPI 3.1 schemas: the document schema, the OAS schema-object dialect and
/// its vocabulary (the JSON Schema 2020-12 meta-schemas are built into `jsonschema`).
fn openapi_registry() -> Registry<'static> {
    Registry::new()
        .add(
            "https://spec.openapis.org/oas/3.1/schema/2022-10-07",
            vendored("openapi-3.1-schema.json"),
        )
        .and_then(|r| {
            r.add(
                "https://spec.openapis.org/oas/3.1/dialect/base",
                vendored("openapi-3.1-dialect-base.json"),
            )
        })
        .and_then(|r| {
            r.add(
                "https://spec.openapis.org/oas/3.1/meta/base",
                vendored("openapi-3.1-meta-base.json"),
            )
        })
        .and_then(|r| r.prepare())
        .expect("the vendored OpenAPI schemas load")
}

fn validator(schema: &Value, registry: &Registry<'_>) -> Validator {
    jsonschema::options()
        .offline()
        .with_registry(registry)
        .build(schema)
        .unwrap_or_else(|error| panic!("the schema compiles: {error}"))
}

/// `schema-base`: the document schema, with every Schema Object in it (through
/// `$dynamicRef: #meta`) checked against the OAS dialect, that is JSON Schema 2020-12.
fn openapi_validator(registry: &Registry<'_>) -> Validator {
    validator(&vendored("openapi-3.1-schema-base.json"), registry)
}

pub(crate) fn asyncapi_validator() -> Validator {
    // Draft 7, with every definition an embedded resource of its own `$id`.
    jsonschema::options()
        .offline()
        .build(&vendored("asyncapi-3.0.0.json"))
        .unwrap_or_else(|error| panic!("the AsyncAPI schema compiles: {error}"))
}

pub(crate) fn errors(validator: &Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect()
}

fn openapi_paths() -> Vec<String> {
    let mut paths: Vec<String> = CONTEXTS
        .iter()
        .map(|(_, dir, _)| format!("services/{dir}/openapi.json"))
        .collect();
    paths.push("app/openapi.json".into());
    paths
}

#[test]
fn every_openapi_document_is_valid_openapi_3_1() {
    let out = shop();
    let registry = openapi_registry();
    let validator = openapi_validator(&registry);
    for path in openapi_paths() {
        let text = read(&out, &path);
        assert!(
            text.ends_with("}\n"),
            "{path}: pretty JSON with a final newline"
        );
        let document: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(document["openapi"], "3.1.0", "{path}");
        let found = errors(&validator, &document);
        assert!(found.is_empty(), "{path}:\n{}", found.join("\n"));
    }
}

/// The validator really applies the 2020-12 dialect through `$dynamicRef`: a broken Schema
/// Object deep in `components` is caught by `schema-base`, not by the plain document schema
/// (which leaves schemas unchecked), and a broken document is caught by both.
#[test]
fn the_openapi_validator_rejects_broken_documents() {
    let out = shop();
    let registry = openapi_registry();
    let full = openapi_validator(&registry);
    let plain = validator(&vendored("openapi-3.1-schema.json"), &registry);
    let good = json_file(&out, "services/cart/openapi.json");
    assert!(full.is_valid(&good) && plain.is_valid(&good));

    let mut bad_schema = good.clone();
    bad_schema["components"]["schemas"]["Cart.ShoppingCart.command.AddItem"]["properties"]["quantity"]
        ["minimum"] = json!("one");
    assert!(
        !full.is_valid(&bad_schema),
        "a Schema Object with `minimum: \"one\"` passed"
    );
    assert!(
        plain.is_valid(&bad_schema),
        "the plain schema does not look into Schema Objects: only the dialect caught it"
    );
    let mut bad_type = good.clone();
    bad_type["components"]["schemas"]["Money"]["properties"]["currency"]["type"] = json!("text");
    assert!(!full.is_valid(&bad_type), "`type: text` passed");

    let mut no_info = good.clone();
    no_info.as_object_mut().expect("an object").remove("info");
    assert!(!full.is_valid(&no_info) && !plain.is_valid(&no_info));
    let mut bad_path = good.clone();
    let paths = bad_path["paths"].as_object_mut().expect("paths");
    let item = paths.remove("/shopping-carts").expect("the create route");
    paths.insert("shopping-carts".into(), item);
    assert!(
        !full.is_valid(&bad_path),
        "a path without a leading `/` passed"
    );
    let mut bad_version = good;
    bad_version["openapi"] = json!("3.0.3");
    assert!(!full.is_valid(&bad_version));
}

/// The Cart service's routes: what `ddd_service::AggregateApi` serves for `ShoppingCart`.
#[test]
fn the_cart_document_describes_its_routes_and_bodies() {
    let out = shop();
    let doc = json_file(&out, "services/cart/openapi.json");
    let paths = doc["paths"].as_object().expect("paths");
    let found: BTreeSet<&str> = paths.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = [
        "/shopping-carts",
        "/shopping-carts/{id}",
        "/shopping-carts/{id}/events",
        "/shopping-carts/{id}/open-cart",
        "/shopping-carts/{id}/add-item",
        "/shopping-carts/{id}/remove-item",
        "/shopping-carts/{id}/check-out",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/openapi.json",
    ]
    .into();
    assert_eq!(found, expected);
    let schema = |reference: &Value| -> Value {
        let name = reference["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap_or_else(|| panic!("a schema reference: {reference}"));
        doc["components"]["schemas"][name].clone()
    };

    // Create: the first creating command's fields, 201 with Location and ETag.
    let create = &paths["/shopping-carts"]["post"];
    let body = schema(&create["requestBody"]["content"]["application/json"]["schema"]);
    assert_eq!(body["required"], json!(["customer"]));
    assert_eq!(body["additionalProperties"], json!(false));
    assert_eq!(
        body["properties"]["customer"],
        json!({ "type": "string", "format": "uuid" })
    );
    let created = &create["responses"]["201"];
    assert!(created["headers"]["Location"].is_object() && created["headers"]["ETag"].is_object());
    let accepted = schema(&created["content"]["application/json"]["schema"]);
    assert_eq!(accepted["required"], json!(["id", "version"]));
    assert_eq!(create["security"], json!([{ "bearer": [] }]));

    // A command on an existing cart: the constraint of the model in the body's schema.
    let add = &paths["/shopping-carts/{id}/add-item"]["post"];
    let body = schema(&add["requestBody"]["content"]["application/json"]["schema"]);
    assert_eq!(
        body["properties"]["quantity"],
        json!({ "type": "integer", "minimum": 1, "maximum": 99 })
    );
    assert_eq!(
        body["required"],
        json!(["product", "quantity", "unit_price"])
    );
    assert_eq!(
        body["properties"]["unit_price"],
        json!({ "$ref": "#/components/schemas/Money" })
    );
    let money = &doc["components"]["schemas"]["Money"];
    assert_eq!(
        money["properties"]["currency"],
        json!({ "type": "string", "minLength": 3, "maxLength": 3 })
    );
    assert_eq!(
        money["properties"]["amount_cents"]["minimum"],
        json!(0),
        "`@range(0..)` narrows i64's own bounds"
    );
    assert_eq!(
        money["properties"]["amount_cents"]["maximum"],
        json!(i64::MAX)
    );
    let parameters: Vec<&str> = add["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(parameters, ["id", "If-Match"]);
    let statuses = |operation: &Value| -> Vec<String> {
        operation["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(
        statuses(add),
        [
            "200", "400", "401", "403", "404", "409", "412", "413", "415", "422", "500"
        ]
    );
    // Nothing to break in `CheckOut()`: no 422; and an empty body will do.
    let check_out = &paths["/shopping-carts/{id}/check-out"]["post"];
    assert!(!statuses(check_out).contains(&"422".to_owned()));
    assert_eq!(check_out["requestBody"]["required"], json!(false));
    assert_eq!(
        doc["components"]["responses"]["UnprocessableContent"]["content"]["application/problem+json"]
            ["schema"],
        json!({ "$ref": "#/components/schemas/problem" })
    );
    let problem = &doc["components"]["schemas"]["problem"];
    assert_eq!(
        problem["required"],
        json!(["type", "title", "status", "detail"])
    );
    assert!(problem["properties"]["field"].is_object());
    assert_eq!(
        schema(&problem["properties"]["violations"]["items"])["required"],
        json!(["field", "constraint", "message"])
    );

    // Reads are open; writes need the bearer token when it is configured.
    let get = &paths["/shopping-carts/{id}"]["get"];
    assert!(get.get("security").is_none());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": doc["components"]["securitySchemes"]["bearer"]["description"],
        })
    );
    let state = &get["responses"]["200"]["content"]["application/json"]["schema"];
    let state = schema(&state["properties"]["state"]);
    assert_eq!(
        state["properties"]["items"],
        json!({ "type": "array", "items": { "$ref": "#/components/schemas/Cart.ShoppingCart.CartItem" } })
    );
    let events = &paths["/shopping-carts/{id}/events"]["get"]["responses"]["200"];
    let recorded = schema(&events["content"]["application/json"]["schema"]["items"]);
    assert_eq!(recorded["oneOf"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        paths["/health/ready"]["get"]["responses"]
            .as_object()
            .map(|r| r.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["200".to_owned(), "503".to_owned()])
    );
    assert!(paths["/metrics"]["get"]["responses"]["200"]["content"]["text/plain"].is_object());
    assert_eq!(doc["servers"][0]["url"], "http://localhost:8082");
}

/// The schemas say what the service accepts: a body the service refuses fails them too.
#[test]
fn command_schemas_accept_and_refuse_what_the_service_does() {
    let out = shop();
    let doc = json_file(&out, "services/shipping/openapi.json");
    let base = "https://ddd.invalid/shipping/openapi.json";
    let registry = Registry::new()
        .add(base, jsonschema::Resource::from_contents(doc.clone()))
        .and_then(|r| r.prepare())
        .expect("the document as a resource");
    let body = |name: &str| {
        jsonschema::options()
            .offline()
            .with_draft(Draft::Draft202012)
            .with_registry(&registry)
            .build(&json!({ "$ref": format!("{base}#/components/schemas/{name}") }))
            .unwrap_or_else(|error| panic!("{name}: {error}"))
    };
    let set_address = body("Shipping.Shipment.command.SetAddress");
    let address = json!({ "street": "1 Main St", "city": "Oslo", "zip": "0150" });
    assert!(set_address.is_valid(&json!({ "address": address })));
    for bad in [
        json!({}),
        json!({ "address": { "street": "1 Main St", "city": "Oslo", "zip": "no!" } }),
        json!({ "address": { "street": "1 Main St", "city": "Oslo" } }),
        json!({ "address": address, "extra": 1 }),
    ] {
        assert!(!set_address.is_valid(&bad), "{bad}");
    }
    let dispatch = body("Shipping.Shipment.command.Dispatch");
    assert!(dispatch.is_valid(&json!({ "dispatched_at": "2026-11-21T10:00:00Z" })));
    let state = body("Shipping.Shipment.state");
    let id = "0190f0e0-0000-7000-8000-000000000001";
    assert!(state.is_valid(&json!({
        "id": id, "version": 1, "order": id, "address": null, "dispatched": null,
    })));
    assert!(state.is_valid(&json!({
        "id": id, "version": 2, "order": id, "address": address,
        "dispatched": "2026-11-21T10:00:00Z",
    })));
}

#[test]
fn the_monolith_document_holds_every_service_route() {
    let out = shop();
    let app = json_file(&out, "app/openapi.json");
    let app_paths = app["paths"].as_object().expect("paths");
    for (_, dir, _) in CONTEXTS {
        let service = json_file(&out, &format!("services/{dir}/openapi.json"));
        for (path, item) in service["paths"].as_object().expect("paths") {
            assert_eq!(app_paths.get(path), Some(item), "{dir}: {path}");
        }
    }
    for route in [
        "/products",
        "/deals",
        "/shopping-carts",
        "/orders",
        "/payments",
        "/shipments",
    ] {
        assert!(app_paths.contains_key(route), "{route}");
    }
    let status = &app["components"]["schemas"]["Ordering.OrderStatus"];
    assert_eq!(
        status["enum"],
        json!(["Placed", "Paid", "Shipped", "Cancelled"])
    );
}

#[test]
fn asyncapi_is_valid_and_names_every_published_subject() {
    let out = shop();
    let text = read(&out, "docs/asyncapi.yaml");
    assert!(text.starts_with("# @generated by `ddd generate` from shop.ddd"));
    let doc = yaml_file(&out, "docs/asyncapi.yaml");
    let validator = asyncapi_validator();
    let found = errors(&validator, &doc);
    assert!(found.is_empty(), "{}", found.join("\n"));

    let channels = doc["channels"].as_object().expect("channels");
    let addresses: BTreeSet<String> = channels
        .values()
        .map(|c| c["address"].as_str().unwrap_or_default().to_owned())
        .collect();
    let expected: BTreeSet<String> = PUBLISHED
        .iter()
        .map(|(context, event)| format!("shop.{context}.{event}"))
        .collect();
    assert_eq!(addresses, expected);
    let operations = doc["operations"].as_object().expect("operations");
    assert_eq!(operations.len(), PUBLISHED.len());
    for (context, event) in PUBLISHED {
        let id = format!("{context}.{event}");
        let operation = &operations[&format!("{id}.send")];
        assert_eq!(operation["action"], "send");
        assert_eq!(operation["channel"]["$ref"], format!("#/channels/{id}"));
    }

    // The envelope as it travels, with the event's fields inside.
    let message = &doc["components"]["messages"]["Cart.CartCheckedOut"];
    let envelope_name = message["payload"]["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .expect("a payload reference");
    let envelope = &doc["components"]["schemas"][envelope_name];
    for field in [
        "event_id",
        "aggregate_type",
        "aggregate_id",
        "version",
        "position",
        "recorded_at",
        "event_type",
        "schema_version",
        "correlation_id",
        "payload",
    ] {
        assert!(
            envelope["required"]
                .as_array()
                .is_some_and(|r| r.contains(&json!(field))),
            "{field}"
        );
    }
    assert_eq!(
        envelope["properties"]["event_type"],
        json!({ "const": "CartCheckedOut" })
    );
    let payload_name = envelope["properties"]["payload"]["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .expect("a payload reference");
    let payload = &doc["components"]["schemas"][payload_name];
    assert_eq!(payload["required"], json!(["customer", "items"]));
    let item = &doc["components"]["schemas"]["Cart.ShoppingCart.CartItem"];
    assert_eq!(
        item["properties"]["quantity"],
        json!({ "type": "integer", "minimum": 1, "maximum": 99 })
    );

    // A message as `serde_json` writes `ddd_core::RawEnvelope` fits its schema.
    let id = "0190f0e0-0000-7000-8000-000000000001";
    let sample = json!({
        "event_id": id, "aggregate_type": "ShoppingCart", "aggregate_id": id, "version": 4,
        "position": 17, "recorded_at": "2026-11-21T10:00:00.123456Z",
        "event_type": "CartCheckedOut", "schema_version": 1, "correlation_id": id,
        "causation_id": id,
        "trace": { "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
        "payload": { "customer": id, "items": [{
            "product": id, "quantity": 2,
            "unit_price": { "amount_cents": 1250, "currency": "EUR" },
        }] },
    });
    let base = "https://ddd.invalid/asyncapi.yaml";
    let registry = Registry::new()
        .add(base, jsonschema::Resource::from_contents(doc.clone()))
        .and_then(|r| r.prepare())
        .expect("the document as a resource");
    let message_schema = jsonschema::options()
        .offline()
        .with_draft(Draft::Draft7)
        .with_registry(&registry)
        .build(&json!({ "$ref": format!("{base}#/components/schemas/{envelope_name}") }))
        .expect("the envelope schema compiles");
    let found = errors(&message_schema, &sample);
    assert!(found.is_empty(), "{}", found.join("\n"));
    let mut wrong = sample;
    wrong["payload"]["items"][0]["quantity"] = json!(100);
    assert!(!message_schema.is_valid(&wrong));
}

#[test]
fn the_asyncapi_validator_rejects_broken_documents() {
    let out = shop();
    let doc = yaml_file(&out, "docs/asyncapi.yaml");
    let validator = asyncapi_validator();
    assert!(validator.is_valid(&doc));
    let mut publish = doc.clone();
    // AsyncAPI 2's verb: no longer an action in 3.0.
    publish["operations"]["Cart.CartCheckedOut.send"]["action"] = json!("publish");
    assert!(!validator.is_valid(&publish));
    let mut address = doc.clone();
    address["channels"]["Cart.CartCheckedOut"]["address"] = json!(42);
    assert!(!validator.is_valid(&address));
    let mut version = doc;
    version["asyncapi"] = json!("2.6.0");
    assert!(!validator.is_valid(&version));
}

#[test]
fn compose_runs_every_service_on_postgres_and_nats() {
    let out = shop();
    let compose = yaml_file(&out, "docker-compose.yml");
    let services = compose["services"].as_object().expect("services");
    assert_eq!(services["postgres"]["image"], "postgres:16");
    assert!(services["postgres"]["healthcheck"]["test"].is_array());
    let nats = &services["nats"];
    assert!(
        nats["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("nats:2"))
    );
    assert!(
        nats["command"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("-js")))
    );
    assert!(nats["healthcheck"]["test"].is_array());
    let init = read(&out, "deploy/postgres/init.sql");
    let mut ports = BTreeSet::new();
    for (_, dir, port) in CONTEXTS {
        let name = format!("shop-{dir}");
        let service = &services[&name];
        let env = &service["environment"];
        let database = format!("shop_{dir}");
        assert_eq!(
            env["DATABASE_URL"],
            format!("postgres://postgres@postgres:5432/{database}"),
            "{name}"
        );
        assert!(
            init.contains(&format!("CREATE DATABASE {database};")),
            "{init}"
        );
        assert_eq!(env["BUS_URL"], "nats://nats:4222");
        assert_eq!(env["HTTP_ADDR"], format!("0.0.0.0:{port}"));
        assert!(
            env.get("JWT_HS256_SECRET").is_none(),
            "no secret in the file"
        );
        assert_eq!(service["ports"], json!([format!("{port}:{port}")]));
        assert_eq!(
            service["build"]["dockerfile"],
            format!("services/{dir}/Dockerfile")
        );
        for dependency in ["postgres", "nats"] {
            assert_eq!(
                service["depends_on"][dependency]["condition"],
                "service_healthy"
            );
        }
        let check = service["healthcheck"]["test"].to_string();
        assert!(
            check.contains(&format!("http://127.0.0.1:{port}/health/ready")),
            "{check}"
        );
        assert!(ports.insert(port));
    }
    let ignored = read(&out, ".dockerignore");
    assert!(ignored.lines().any(|l| l == "**/target"), "{ignored}");
}

/// Every document of a `deploy/k8s/<context>.yaml`, by kind.
fn k8s(out: &Output, dir: &str) -> Vec<Value> {
    let path = format!("deploy/k8s/{dir}.yaml");
    serde_saphyr::from_multiple(&read(out, &path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[test]
fn kubernetes_files_probe_scale_and_keep_secrets_out() {
    let out = shop();
    for (_, dir, port) in CONTEXTS {
        let name = format!("shop-{dir}");
        let documents = k8s(&out, dir);
        let kinds: Vec<&str> = documents
            .iter()
            .map(|d| d["kind"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            kinds,
            [
                "ConfigMap",
                "Deployment",
                "Service",
                "HorizontalPodAutoscaler"
            ]
        );
        for document in &documents {
            assert_eq!(document["metadata"]["name"], name.as_str());
        }
        let config = &documents[0]["data"];
        assert_eq!(config["HTTP_ADDR"], format!("0.0.0.0:{port}"));
        assert_eq!(config["BUS_URL"], "nats://nats:4222");
        assert!(
            config.get("DATABASE_URL").is_none() && config.get("JWT_HS256_SECRET").is_none(),
            "credentials stay in the Secret"
        );

        let deployment = &documents[1];
        assert_eq!(deployment["apiVersion"], "apps/v1");
        assert_eq!(deployment["spec"]["replicas"], 2);
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            container["ports"],
            json!([{ "name": "http", "containerPort": port }])
        );
        assert_eq!(
            container["livenessProbe"]["httpGet"],
            json!({ "path": "/health/live", "port": "http" })
        );
        assert_eq!(
            container["readinessProbe"]["httpGet"],
            json!({ "path": "/health/ready", "port": "http" })
        );
        for bound in ["requests", "limits"] {
            let resources = &container["resources"][bound];
            assert!(
                resources["cpu"].is_string() && resources["memory"].is_string(),
                "{bound}"
            );
        }
        assert_eq!(
            container["envFrom"][0]["configMapRef"]["name"],
            name.as_str()
        );
        let env = container["env"].as_array().expect("env");
        let secret = |key: &str| {
            env.iter()
                .find(|e| e["name"] == key)
                .map(|e| e["valueFrom"]["secretKeyRef"].clone())
                .unwrap_or_else(|| panic!("{key} is not from a Secret"))
        };
        assert_eq!(secret("DATABASE_URL")["name"], name.as_str());
        assert_eq!(secret("JWT_HS256_SECRET")["optional"], true);
        assert!(
            env.iter().all(|e| e.get("value").is_none()),
            "no literal values"
        );

        let service = &documents[2];
        assert_eq!(
            service["spec"]["ports"],
            json!([{ "name": "http", "port": port, "targetPort": "http" }])
        );
        assert_eq!(
            service["spec"]["selector"],
            deployment["spec"]["selector"]["matchLabels"]
        );

        let hpa = &documents[3];
        assert_eq!(hpa["apiVersion"], "autoscaling/v2");
        assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], name.as_str());
        assert_eq!(hpa["spec"]["minReplicas"], 2);
        assert!(hpa["spec"]["maxReplicas"].as_u64() > Some(2));
        let metric = &hpa["spec"]["metrics"][0];
        assert_eq!(metric["resource"]["name"], "cpu");
        assert_eq!(metric["resource"]["target"]["type"], "Utilization");
    }
}

#[test]
fn dockerfiles_build_the_service_in_two_stages() {
    let out = shop();
    for (_, dir, port) in CONTEXTS {
        let dockerfile = read(&out, &format!("services/{dir}/Dockerfile"));
        let stages: Vec<&str> = dockerfile
            .lines()
            .filter(|l| l.starts_with("FROM "))
            .collect();
        assert_eq!(
            stages,
            [
                "FROM rust:1.95-bookworm AS builder",
                "FROM debian:bookworm-slim"
            ]
        );
        for part in [
            format!("cargo build --release -p shop-{dir} --features postgres,nats"),
            "USER 10001".to_owned(),
            format!("EXPOSE {port}"),
            format!("HTTP_ADDR=0.0.0.0:{port}"),
            format!("ENTRYPOINT [\"/usr/local/bin/shop-{dir}\"]"),
            "--runtime path:".to_owned(),
        ] {
            assert!(dockerfile.contains(&part), "{dir}: `{part}` missing");
        }
    }
}

/// Every type of the language, and names that are Rust keywords.
const EVERY_TYPE: &str = r#"
system Every

value Amount { value: Decimal, map: Map<String, i64> @len(..=8) }
enum Kind { Plain, Fancy }

context Core {
  enum Mode { On, Off }
  value Stamp { at: DateTime, day: Date, data: Json, note: Option<String> @len(1..=20) }

  aggregate Event {
    event: String
    command: Option<u64>
    flags: Vec<bool>
    amount: Amount
    kind: Kind
    mode: Mode
    stamp: Option<Stamp>
    stamps: Option<Vec<Stamp>>
    other: TypeId

    command Create(event: String @len(1..=10) @pattern("[a-z]+"), amount: Amount, kind: Kind, tags: Vec<String> @len(1..=3)) creates emits Created
    command Touch(stamp: Option<Stamp>, other: TypeId, mode: Option<Mode>) emits Touched
    event Created(event: String, amount: Amount, kind: Kind)
    event Touched(stamp: Option<Stamp>, other: TypeId)
  }

  aggregate Type {
    small: i8
    long: u64
    ratio: f32
    precise: f64

    command Make(small: i8 @range(-5..=5), ratio: f32, precise: f64 @range(0.5..), long: u64) creates emits Made
    event Made(small: i8, ratio: f32, precise: f64, long: u64)
  }

  publishes Created, Touched, Made
}
"#;

#[test]
fn every_type_gives_valid_documents() {
    let out = Test::new()
        .file("every.ddd", EVERY_TYPE)
        .args(["generate", "every.ddd", "--out", "out", "-q"])
        .success();
    let registry = openapi_registry();
    let openapi = openapi_validator(&registry);
    for path in ["services/core/openapi.json", "app/openapi.json"] {
        let document = json_file(&out, path);
        let found = errors(&openapi, &document);
        assert!(found.is_empty(), "{path}:\n{}", found.join("\n"));
    }
    let asyncapi = yaml_file(&out, "docs/asyncapi.yaml");
    let found = errors(&asyncapi_validator(), &asyncapi);
    assert!(found.is_empty(), "{}", found.join("\n"));

    let doc = json_file(&out, "services/core/openapi.json");
    let schemas = &doc["components"]["schemas"];
    let create = &schemas["Core.Event.command.Create"]["properties"];
    assert_eq!(
        create["event"],
        json!({ "type": "string", "minLength": 1, "maxLength": 10, "pattern": "^(?:[a-z]+)$" })
    );
    assert_eq!(create["tags"]["minItems"], 1);
    assert_eq!(create["tags"]["maxItems"], 3);
    let touch = &schemas["Core.Event.command.Touch"];
    assert_eq!(
        touch["required"],
        json!(["other"]),
        "`Option` fields may be left out"
    );
    assert_eq!(
        touch["properties"]["stamp"],
        json!({ "oneOf": [{ "$ref": "#/components/schemas/Core.Stamp" }, { "type": "null" }] })
    );
    let stamp = &schemas["Core.Stamp"]["properties"];
    assert_eq!(
        stamp["at"],
        json!({ "type": "string", "format": "date-time" })
    );
    assert_eq!(stamp["day"], json!({ "type": "string", "format": "date" }));
    assert_eq!(
        stamp["note"],
        json!({ "type": ["string", "null"], "minLength": 1, "maxLength": 20 })
    );
    let amount = &schemas["Amount"]["properties"];
    assert_eq!(
        amount["value"]["type"], "string",
        "rust_decimal writes a string"
    );
    assert_eq!(
        amount["map"],
        json!({ "type": "object", "additionalProperties": { "type": "integer", "minimum": i64::MIN, "maximum": i64::MAX }, "maxProperties": 8 })
    );
    let make = &schemas["Core.Type.command.Make"]["properties"];
    assert_eq!(
        make["small"],
        json!({ "type": "integer", "minimum": -5, "maximum": 5 })
    );
    assert_eq!(
        make["long"],
        json!({ "type": "integer", "minimum": 0, "maximum": u64::MAX })
    );
    assert_eq!(
        make["precise"],
        json!({ "type": "number", "format": "double", "minimum": 0.5 })
    );
    assert!(doc["paths"].get("/events/{id}/create").is_some());
    assert!(doc["paths"].get("/types").is_some());
}

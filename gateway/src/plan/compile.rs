//! Building the plan from a loaded configuration: every operation's
//! effective policy (global, product, API, operation) compiled once per
//! product that contains its API, and once without a product; the
//! subscriptions by key; the backends as the backends family gives them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use sluice_engine::compose::{Layer, effective};
use sluice_engine::diag::{Diagnostics, Severity};
use sluice_engine::doc::{LoadOptions, PolicyDocument, Statement, load};
use sluice_engine::runtime::{
    Backends, Certificates, Pipeline, PipelineCx, Record, Resources, compile_pipeline,
};
use sluice_engine::schema::Scope;
use sluice_engine::script::Compiler;
use sluice_engine::source::Source;
use sluice_engine::value::NamedValues;
use sluice_stdlib::Limits;

use super::template::UrlTemplate;
use super::{ApiPlan, OperationPlan, Plan, ProductPlan, SubscriptionPlan, VersionPlan, bodies};
use crate::config::Loaded;
use crate::config::model::Api;

/// APIM's default global policy: forward every request.
const DEFAULT_GLOBAL: &str =
    "<policies><inbound/><backend><forward-request/></backend><outbound/><on-error/></policies>";

impl Plan {
    /// Compiles every operation's effective policy (per product that
    /// contains its API), with `compiler` (the one that loaded the
    /// configuration: each expression is compiled once) and the resource
    /// families' handles. `crate::build::build` is the one caller outside tests.
    pub fn build(
        loaded: &Loaded,
        engine: Arc<rhai::Engine>,
        limits: Limits,
        compiler: &Compiler<'_>,
        resources: &Resources,
    ) -> Result<Plan, Diagnostics> {
        let named = NamedValues::Known(loaded.named.clone());
        let mut diags = Diagnostics::new();
        let default_global;
        let global = match &loaded.global {
            Some(g) => Some(g),
            None => {
                let (doc, d) = load(
                    &Source::new("global", DEFAULT_GLOBAL),
                    &LoadOptions::default(),
                );
                diags.extend(d);
                default_global = doc;
                default_global.as_ref()
            }
        };
        let product_apis = product_apis(loaded);
        let mut cx = Compiling {
            loaded,
            global,
            compiler,
            named: &named,
            resources,
            diags,
        };
        let apis: Vec<ApiPlan> = loaded
            .config
            .apis
            .iter()
            .map(|a| cx.api(a.get_ref(), &product_apis))
            .collect();
        let diags = cx.diags;
        if diags.iter().any(|d| d.severity == Severity::Error) {
            return Err(diags.sorted());
        }
        let api_paths = apis.iter().map(|a| a.prefix.to_string()).collect();
        Ok(Plan {
            engine,
            limits,
            apis,
            api_paths,
            subscriptions: subscriptions(loaded),
            products: products(loaded),
            open_products: open_products(loaded),
            product_apis,
            backends: resources
                .get::<Backends>()
                .map(|b| b.0.clone())
                .unwrap_or_default(),
            cross_domain: cross_domain(global),
            // (The build moves `[certificates]` into the resources.)
            deployment: deployment(
                loaded,
                resources
                    .get::<Certificates>()
                    .iter()
                    .flat_map(|c| c.by_id.values())
                    .map(|c| c.certificate.clone()),
            ),
        })
    }
}

/// The file of the global policy's `cross-domain` (the first, in inbound).
fn cross_domain(global: Option<&PolicyDocument>) -> Option<bytes::Bytes> {
    let doc = global?;
    let inbound = doc.section(sluice_engine::schema::Section::Inbound)?;
    inbound.statements.iter().find_map(|st| match st {
        Statement::Policy(e) if e.name == "cross-domain" => Some(
            sluice_policies::cross_domain_document(e, &doc.source)
                .into_bytes()
                .into(),
        ),
        _ => None,
    })
}

/// The APIs of each product, by product name.
fn product_apis(loaded: &Loaded) -> BTreeMap<String, BTreeSet<String>> {
    let mut product_apis: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &loaded.config.products {
        let p = p.get_ref();
        product_apis.insert(
            p.name.get_ref().clone(),
            p.apis.iter().map(|a| a.get_ref().clone()).collect(),
        );
    }
    product_apis
}

/// An operation as configured: name, method (upper case), URL template, document.
type OperationSpec<'a> = (String, String, String, Option<&'a PolicyDocument>);

/// What compiling the pipelines needs, and the diagnostics found so far.
struct Compiling<'a> {
    loaded: &'a Loaded,
    global: Option<&'a PolicyDocument>,
    compiler: &'a Compiler<'a>,
    named: &'a NamedValues,
    resources: &'a Resources,
    diags: Diagnostics,
}

impl<'a> Compiling<'a> {
    /// An API with its operations (an implicit `*` one when it lists none).
    fn api(&mut self, a: &Api, product_apis: &BTreeMap<String, BTreeSet<String>>) -> ApiPlan {
        let name = a.name.get_ref().clone();
        let loaded = self.loaded;
        let (api_doc, op_docs) = loaded
            .apis
            .get(&name)
            .map_or((None, None), |(d, o)| (d.as_ref(), Some(o)));
        let products: Vec<Option<String>> = std::iter::once(None)
            .chain(
                product_apis
                    .iter()
                    .filter(|(_, apis)| apis.contains(&name))
                    .map(|(p, _)| Some(p.clone())),
            )
            .collect();
        let mut ops: Vec<OperationSpec<'_>> = a
            .operations
            .iter()
            .map(|o| {
                let o = o.get_ref();
                let doc = op_docs
                    .and_then(|d| d.get(o.name.get_ref()))
                    .and_then(Option::as_ref);
                (
                    o.name.get_ref().clone(),
                    o.method.get_ref().to_ascii_uppercase(),
                    o.url_template.get_ref().clone(),
                    doc,
                )
            })
            .collect();
        if ops.is_empty() {
            ops.push(("*".into(), "*".into(), "/{*path}".into(), None));
        }
        let operations = ops
            .into_iter()
            .map(|op| self.operation(&name, &products, api_doc, op))
            .collect();
        let prefix = format!("/{}", a.path.get_ref().trim_matches('/'));
        ApiPlan {
            record: Record::new("IApi")
                .with("Id", name.clone())
                .with("Name", name.clone())
                .with("Path", prefix.trim_start_matches('/').to_owned()),
            name,
            prefix: prefix.into(),
            service_url: a
                .service_url
                .as_ref()
                .map_or_else(|| "".into(), |u| u.get_ref().as_str().into()),
            subscription_required: a.subscription_required,
            key_header: a
                .subscription_key_header
                .clone()
                .unwrap_or_else(|| "Ocp-Apim-Subscription-Key".to_owned()),
            key_query: a
                .subscription_key_query
                .clone()
                .unwrap_or_else(|| "subscription-key".to_owned()),
            version: a.version.as_ref().map(|v| {
                let v = v.get_ref();
                match (&v.header, &v.query) {
                    (Some(h), _) => VersionPlan::Header(h.clone(), v.value.clone()),
                    (None, Some(q)) => VersionPlan::Query(q.clone(), v.value.clone()),
                    // (Refused when loading.)
                    (None, None) => VersionPlan::Header(String::new(), v.value.clone()),
                }
            }),
            operations,
        }
    }

    /// An operation, its pipeline compiled for each of `products`.
    fn operation(
        &mut self,
        api: &str,
        products: &[Option<String>],
        api_doc: Option<&PolicyDocument>,
        (op_name, method, template, op_doc): OperationSpec<'_>,
    ) -> OperationPlan {
        let mut pipelines = HashMap::new();
        for product in products {
            let pipeline = self.pipeline(api, product.as_deref(), api_doc, op_doc);
            pipelines.insert(product.clone(), pipeline);
        }
        OperationPlan {
            record: Record::new("IOperation")
                .with("Id", op_name.clone())
                .with("Name", op_name.clone())
                .with("Method", method.clone())
                .with("UrlTemplate", template.clone()),
            name: op_name,
            method,
            template: UrlTemplate::parse(&template),
            pipelines,
        }
    }

    /// The effective policy of an operation of `api` under `product`, compiled.
    fn pipeline(
        &mut self,
        api: &str,
        product: Option<&str>,
        api_doc: Option<&PolicyDocument>,
        op_doc: Option<&PolicyDocument>,
    ) -> Pipeline {
        let loaded = self.loaded;
        let product_doc = product
            .and_then(|p| loaded.products.get(p))
            .and_then(Option::as_ref);
        let layers = [
            Layer {
                scope: Scope::Global,
                doc: self.global,
            },
            Layer {
                scope: Scope::Product,
                doc: if product.is_some() { product_doc } else { None },
            },
            Layer {
                scope: Scope::Api,
                doc: api_doc,
            },
            Layer {
                scope: Scope::Operation,
                doc: op_doc,
            },
        ];
        // Without a product, the product layer is absent altogether (not inherited through).
        let layers: Vec<Layer<'_>> = layers
            .into_iter()
            .filter(|l| product.is_some() || l.scope != Scope::Product)
            .collect();
        let eff = effective(&layers, &loaded.fragments);
        let cx = PipelineCx {
            compiler: self.compiler,
            named: self.named,
            fragments: &loaded.fragments,
            factory: &sluice_policies::Builtins,
            resources: self.resources,
            api: Some(api),
        };
        let mut pipeline = compile_pipeline(&eff, &cx, &mut self.diags);
        pipeline.stream_response =
            !bodies::reads_response_body(&eff, &loaded.fragments, &loaded.named);
        pipeline.stream_request =
            !bodies::reads_request_body(&eff, &loaded.fragments, &loaded.named);
        pipeline
    }
}

/// The products by name, with their `context.Product`.
fn products(loaded: &Loaded) -> HashMap<String, ProductPlan> {
    loaded
        .config
        .products
        .iter()
        .map(|p| {
            let p = p.get_ref();
            let name = p.name.get_ref().clone();
            let plan = ProductPlan {
                key: Some(name.clone()),
                record: Record::new("IProduct")
                    .with("Id", name.clone())
                    .with("Name", name.clone())
                    .with("SubscriptionRequired", *p.subscription_required.get_ref()),
            };
            (name, plan)
        })
        .collect()
}

/// Each API's open product (the loader refuses an API in two).
fn open_products(loaded: &Loaded) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for p in &loaded.config.products {
        let p = p.get_ref();
        if !*p.subscription_required.get_ref() {
            for a in &p.apis {
                out.entry(a.get_ref().clone())
                    .or_insert_with(|| p.name.get_ref().clone());
            }
        }
    }
    out
}

/// The subscriptions by key.
fn subscriptions(loaded: &Loaded) -> HashMap<String, SubscriptionPlan> {
    loaded
        .config
        .subscriptions
        .iter()
        .map(|s| {
            let s = s.get_ref();
            let (id, key) = (s.id.get_ref(), s.key.get_ref());
            let product = s.product.as_ref().map(|p| p.get_ref().clone());
            (
                key.clone(),
                SubscriptionPlan {
                    record: Record::new("ISubscription")
                        .with("Id", id.clone())
                        .with("Name", id.clone())
                        .with("Key", key.clone()),
                    user: s.user.clone().map(|u| user_record(u, &s.groups)),
                    product,
                    api: s.api.as_ref().map(|a| a.get_ref().clone()),
                },
            )
        })
        .collect()
}

/// `context.Deployment`: the `[gateway] region`, and the gateway's name.
fn deployment(
    loaded: &Loaded,
    certificates: impl IntoIterator<Item = sluice_stdlib::X509Certificate2>,
) -> Record {
    let region = loaded
        .config
        .gateway
        .region
        .as_ref()
        .map(|r| r.get_ref().clone())
        .unwrap_or_default();
    sluice_stdlib::context::deployment_record(certificates)
        .with("Region", region)
        .with("ServiceName", "sluice")
        .with("GatewayId", "sluice")
}

/// `context.User`: its id and its groups (`IGroup` records, id and name).
fn user_record(id: String, groups: &[String]) -> Record {
    let groups: rhai::Array = groups
        .iter()
        .map(|g| {
            rhai::Dynamic::from(
                Record::new("IGroup")
                    .with("Id", g.clone())
                    .with("Name", g.clone()),
            )
        })
        .collect();
    Record::new("IUser").with("Id", id).with("Groups", groups)
}

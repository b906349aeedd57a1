//! `set-body template="liquid"`: the template parsed once at load (the
//! `liquid` crate), rendered per request against APIM's DotLiquid context:
//! `body` (the current message's body, bound as JSON when its content type is
//! JSON) and `context` (`Request`, `Response`, `Variables`, ...). Filters go by
//! the PascalCase names APIM documents ("C# mode"): `Upcase`, `Default`, ...

use liquid::model::{
    ArrayView, DisplayCow, KStringCow, Object, ObjectView, ScalarCow, State, Value, ValueView,
};
use liquid_core::parser::{
    Filter, FilterArguments, FilterReflection, ParameterReflection, ParseFilter,
};
use liquid_lib::stdlib as std_filters;
use sluice_engine::diag::Code;
use sluice_engine::runtime::{CompileCx, Compiled, Exchange, PolicyError, Reason};
use sluice_engine::source::Span;
use sluice_engine::xml::{Element, Node};
use sluice_stdlib::context::message::{Message, Multimap, Url};

/// A parsed template.
pub(crate) struct LiquidTemplate {
    template: liquid::Template,
}

impl std::fmt::Debug for LiquidTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiquidTemplate")
    }
}

/// A stdlib filter registered under APIM's PascalCase name.
#[derive(Clone)]
struct Pascal {
    name: &'static str,
    inner: Box<dyn ParseFilter>,
}

impl FilterReflection for Pascal {
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        self.inner.reflection().description()
    }
    fn positional_parameters(&self) -> &'static [ParameterReflection] {
        self.inner.reflection().positional_parameters()
    }
    fn keyword_parameters(&self) -> &'static [ParameterReflection] {
        self.inner.reflection().keyword_parameters()
    }
}

impl ParseFilter for Pascal {
    fn parse(&self, arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        self.inner.parse(arguments)
    }
    fn reflection(&self) -> &dyn FilterReflection {
        self
    }
}

fn pascal(name: &'static str, inner: impl ParseFilter + 'static) -> Pascal {
    Pascal {
        name,
        inner: Box::new(inner),
    }
}

/// The filters the set-body page lists, by the names it gives them.
/// `Currency` (a .NET culture format) has no counterpart and is not registered.
fn parser() -> liquid_core::Result<liquid::Parser> {
    use std_filters::*;
    let filters = [
        pascal("Abs", Abs),
        pascal("Append", Append),
        pascal("AtLeast", AtLeast),
        pascal("AtMost", AtMost),
        pascal("Capitalize", Capitalize),
        pascal("Compact", Compact),
        pascal("Date", Date),
        pascal("Default", Default),
        pascal("DividedBy", DividedBy),
        pascal("Downcase", Downcase),
        pascal("Escape", Escape),
        pascal("First", First),
        pascal("H", Escape),
        pascal("Join", Join),
        pascal("Last", Last),
        pascal("Lstrip", Lstrip),
        pascal("Map", Map),
        pascal("Minus", Minus),
        pascal("Modulo", Modulo),
        pascal("NewlineToBr", NewlineToBr),
        pascal("Plus", Plus),
        pascal("Prepend", Prepend),
        pascal("Remove", Remove),
        pascal("RemoveFirst", RemoveFirst),
        pascal("Replace", Replace),
        pascal("ReplaceFirst", ReplaceFirst),
        pascal("Round", Round),
        pascal("Rstrip", Rstrip),
        pascal("Size", Size),
        pascal("Slice", Slice),
        pascal("Sort", Sort),
        pascal("Split", Split),
        pascal("Strip", Strip),
        pascal("StripHtml", StripHtml),
        pascal("StripNewlines", StripNewlines),
        pascal("Times", Times),
        pascal("Truncate", Truncate),
        pascal("TruncateWords", TruncateWords),
        pascal("Uniq", Uniq),
        pascal("Upcase", Upcase),
        pascal("UrlDecode", UrlDecode),
        pascal("UrlEncode", UrlEncode),
    ];
    // Tags and blocks of the standard library (`assign`, `if`, `for`, ...;
    // no `include`/`render`: APIM has no partials), no snake_case filters.
    let mut b = liquid::ParserBuilder::new()
        .tag(AssignTag)
        .tag(BreakTag)
        .tag(ContinueTag)
        .tag(CycleTag)
        .tag(IncrementTag)
        .tag(DecrementTag)
        .block(RawBlock)
        .block(IfBlock)
        .block(UnlessBlock)
        .block(IfChangedBlock)
        .block(ForBlock)
        .block(TableRowBlock)
        .block(CommentBlock)
        .block(CaptureBlock)
        .block(CaseBlock);
    for f in filters {
        b = b.filter(f);
    }
    b.build()
}

/// Parses the element's content as a template; a template that does not
/// parse is a load error at its line and column in the policy file.
pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled<LiquidTemplate> {
    // Text only: its decoded value (`&lt;` is `<`), positions mapped back
    // through the entities. With markup (a SOAP envelope): the content as
    // written.
    let has_markup = e.children.iter().any(|n| matches!(n, Node::Element(_)));
    let (text, to_source): (String, Box<dyn Fn(usize) -> usize>) =
        match (has_markup, e.content_span) {
            (true, Some(span)) => (
                cx.source.slice(Span::new(span.start, span.end)).to_owned(),
                Box::new(move |o| span.start + o),
            ),
            _ => {
                let t = e.text();
                (t.value.clone(), Box::new(move |o| t.source_offset(o)))
            }
        };
    let start = to_source(0);
    let parsed = parser().and_then(|p| p.parse(&text));
    match parsed {
        Ok(template) => Ok(LiquidTemplate { template }),
        Err(err) => {
            let msg = err.to_string();
            let at = position(&msg)
                .and_then(|(line, col)| offset_of(&text, line, col))
                .map_or(start, to_source);
            let summary = summary(&msg);
            cx.fail(
                Code::TemplateSyntax,
                Span::new(at, at + 1),
                format!("the Liquid template does not parse: {summary}"),
            )
        }
    }
}

/// The message of a liquid error without its source excerpt: the pest
/// "= ..." line when there is one, else the first line and what it names
/// (`requested filter=upcase`).
fn summary(msg: &str) -> String {
    if let Some(l) = msg.lines().rev().find_map(|l| l.trim().strip_prefix("= ")) {
        return l.trim().to_owned();
    }
    let mut out = msg
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .trim_start_matches("liquid: ")
        .to_owned();
    for l in msg.lines().skip(1) {
        let l = l.trim();
        if l.starts_with("requested ") {
            out.push_str(&format!(" ({l})"));
        }
    }
    out
}

/// `line:col` (1-based) from liquid's ` --> L:C` error line.
fn position(msg: &str) -> Option<(usize, usize)> {
    let rest = msg.split("--> ").nth(1)?;
    let head: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ':')
        .collect();
    let (l, c) = head.split_once(':')?;
    Some((l.parse().ok()?, c.parse().ok()?))
}

fn offset_of(text: &str, line: usize, col: usize) -> Option<usize> {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let within = l.char_indices().nth(col.saturating_sub(1)).map(|(b, _)| b);
            return Some(off + within.unwrap_or(0));
        }
        off += l.len();
    }
    None
}

impl LiquidTemplate {
    /// Renders against the exchange; `body` is the message the policy
    /// changes (empty inside `return-response`, as the docs say).
    pub(crate) fn render(&self, x: &Exchange, with_body: bool) -> Result<String, PolicyError> {
        let globals = Lenient::new(Value::Object(globals(x, with_body)));
        self.template.render(&globals).map_err(|e| {
            PolicyError::new(
                "set-body",
                Reason::ExpressionValueEvaluationFailure,
                500,
                format!("the Liquid template failed: {e}"),
            )
        })
    }
}

fn globals(x: &Exchange, with_body: bool) -> Object {
    let mut g = Object::new();
    if with_body {
        g.insert("body".into(), x.message().read(body_value));
    }
    let mut ctx = Object::new();
    ctx.insert("Request".into(), x.request().read(request_value));
    ctx.insert("Response".into(), x.response().read(response_value));
    ctx.insert("Variables".into(), variables(x));
    ctx.insert(
        "RequestId".into(),
        Value::scalar(x.ctx.0.request_id.to_string()),
    );
    g.insert("context".into(), Value::Object(ctx));
    g
}

/// The body bound by content type: JSON as an object, anything else as text.
fn body_value(m: &Message) -> Value {
    let Some(b) = &m.body else {
        return Value::Nil;
    };
    let ct = m
        .headers
        .get("content-type")
        .and_then(|v| v.first())
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let mime = ct.split(';').next().unwrap_or_default().trim();
    let json = mime == "application/json" || mime == "text/json" || mime.ends_with("+json");
    if json && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b.bytes) {
        return json_value(&v);
    }
    Value::scalar(String::from_utf8_lossy(&b.bytes).into_owned())
}

fn json_value(v: &serde_json::Value) -> Value {
    liquid::model::to_value(v).unwrap_or(Value::Nil)
}

/// `Headers` as a dictionary: the values of a name joined with `,`.
fn multimap(m: &Multimap) -> Value {
    let mut o = Object::new();
    for (name, values) in &m.0 {
        o.insert(name.to_string().into(), Value::scalar(values.join(",")));
    }
    Value::Object(o)
}

fn url_value(u: &Url) -> Value {
    let mut o = Object::new();
    o.insert("Scheme".into(), Value::scalar(u.scheme.to_string()));
    o.insert("Host".into(), Value::scalar(u.host.clone()));
    o.insert("Port".into(), Value::scalar(i64::from(u.port)));
    o.insert("Path".into(), Value::scalar(u.path.clone()));
    o.insert("Query".into(), multimap(&u.query));
    o.insert("QueryString".into(), Value::scalar(u.query_string()));
    o.insert("ToUri".into(), Value::scalar(u.to_string()));
    o.insert("ToString".into(), Value::scalar(u.to_string()));
    Value::Object(o)
}

fn request_value(m: &Message) -> Value {
    let mut o = Object::new();
    o.insert("Url".into(), url_value(&m.url));
    o.insert("Method".into(), Value::scalar(m.method.clone()));
    o.insert("OriginalMethod".into(), Value::scalar(m.method.clone()));
    o.insert("OriginalUrl".into(), url_value(&m.original_url));
    o.insert("IpAddress".into(), Value::scalar(m.ip.clone()));
    let mut matched = Object::new();
    for (k, v) in &m.matched {
        matched.insert(k.clone().into(), Value::scalar(v.clone()));
    }
    o.insert("MatchedParameters".into(), Value::Object(matched));
    o.insert("HasBody".into(), Value::scalar(m.body.is_some()));
    o.insert("Headers".into(), multimap(&m.headers));
    Value::Object(o)
}

fn response_value(m: &Message) -> Value {
    let mut o = Object::new();
    o.insert("StatusCode".into(), Value::scalar(m.status));
    o.insert("StatusReason".into(), Value::scalar(m.reason.clone()));
    o.insert("Headers".into(), multimap(&m.headers));
    Value::Object(o)
}

/// `context.Variables`: each value's .NET text, bound as JSON when it is a
/// `JObject`/`JArray` (its text parses as JSON).
fn variables(x: &Exchange) -> Value {
    let vars: Vec<(String, rhai::Dynamic)> = x
        .ctx
        .variables(|v| v.iter().map(|(k, d)| (k.clone(), d.clone())).collect());
    let mut o = Object::new();
    for (k, d) in vars {
        let v = if d.is_int() {
            Value::scalar(d.as_int().unwrap_or_default())
        } else if d.is_bool() {
            Value::scalar(d.as_bool().unwrap_or_default())
        } else if d.is_float() {
            Value::scalar(d.as_float().unwrap_or_default())
        } else if d.is_string() {
            Value::scalar(d.into_string().unwrap_or_default())
        } else {
            match sluice_stdlib::eval::display(&x.engine, d) {
                Ok(Some(text)) => match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(j @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                        json_value(&j)
                    }
                    _ => Value::scalar(text),
                },
                _ => Value::Nil,
            }
        };
        o.insert(k.into(), v);
    }
    Value::Object(o)
}

/// A value whose objects answer nil for a missing key, as DotLiquid does
/// (the `liquid` crate fails the render on an unknown variable).
#[derive(Debug)]
struct Lenient {
    plain: Value,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Scalar,
    Array(Vec<Lenient>),
    Object(Vec<(liquid::model::KString, Lenient)>),
}

static NIL: Value = Value::Nil;

impl Lenient {
    fn new(v: Value) -> Lenient {
        let kind = match &v {
            Value::Array(a) => Kind::Array(a.iter().cloned().map(Lenient::new).collect()),
            Value::Object(o) => Kind::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Lenient::new(v.clone())))
                    .collect(),
            ),
            _ => Kind::Scalar,
        };
        Lenient { plain: v, kind }
    }
}

impl ValueView for Lenient {
    fn as_debug(&self) -> &dyn std::fmt::Debug {
        self
    }
    fn render(&self) -> DisplayCow<'_> {
        self.plain.render()
    }
    fn source(&self) -> DisplayCow<'_> {
        self.plain.source()
    }
    fn type_name(&self) -> &'static str {
        self.plain.type_name()
    }
    fn query_state(&self, state: State) -> bool {
        self.plain.query_state(state)
    }
    fn to_kstr(&self) -> KStringCow<'_> {
        self.plain.to_kstr()
    }
    fn to_value(&self) -> Value {
        self.plain.clone()
    }
    fn as_scalar(&self) -> Option<ScalarCow<'_>> {
        self.plain.as_scalar()
    }
    fn as_array(&self) -> Option<&dyn ArrayView> {
        matches!(self.kind, Kind::Array(_)).then_some(self as &dyn ArrayView)
    }
    fn as_object(&self) -> Option<&dyn ObjectView> {
        matches!(self.kind, Kind::Object(_)).then_some(self as &dyn ObjectView)
    }
    fn as_state(&self) -> Option<State> {
        self.plain.as_state()
    }
    fn is_nil(&self) -> bool {
        self.plain.is_nil()
    }
}

impl Lenient {
    fn items(&self) -> &[Lenient] {
        match &self.kind {
            Kind::Array(a) => a,
            _ => &[],
        }
    }
    fn entries(&self) -> &[(liquid::model::KString, Lenient)] {
        match &self.kind {
            Kind::Object(o) => o,
            _ => &[],
        }
    }
}

impl ArrayView for Lenient {
    fn as_value(&self) -> &dyn ValueView {
        self
    }
    fn size(&self) -> i64 {
        i64::try_from(self.items().len()).unwrap_or(i64::MAX)
    }
    fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
        Box::new(self.items().iter().map(|v| v as &dyn ValueView))
    }
    fn contains_key(&self, index: i64) -> bool {
        ArrayView::get(self, index).is_some()
    }
    fn get(&self, index: i64) -> Option<&dyn ValueView> {
        let len = ArrayView::size(self);
        let i = if index < 0 { len + index } else { index };
        usize::try_from(i)
            .ok()
            .and_then(|i| self.items().get(i))
            .map(|v| v as &dyn ValueView)
    }
}

impl ObjectView for Lenient {
    fn as_value(&self) -> &dyn ValueView {
        self
    }
    fn size(&self) -> i64 {
        i64::try_from(self.entries().len()).unwrap_or(i64::MAX)
    }
    fn keys<'k>(&'k self) -> Box<dyn Iterator<Item = KStringCow<'k>> + 'k> {
        Box::new(
            self.entries()
                .iter()
                .map(|(k, _)| KStringCow::from_ref(k.as_str())),
        )
    }
    fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
        Box::new(self.entries().iter().map(|(_, v)| v as &dyn ValueView))
    }
    fn iter<'k>(&'k self) -> Box<dyn Iterator<Item = (KStringCow<'k>, &'k dyn ValueView)> + 'k> {
        Box::new(
            self.entries()
                .iter()
                .map(|(k, v)| (KStringCow::from_ref(k.as_str()), v as &dyn ValueView)),
        )
    }
    fn contains_key(&self, index: &str) -> bool {
        self.entries().iter().any(|(k, _)| k.as_str() == index)
    }
    fn get<'s>(&'s self, index: &str) -> Option<&'s dyn ValueView> {
        match self.entries().iter().find(|(k, _)| k.as_str() == index) {
            Some((_, v)) => Some(v),
            // `size` of an object is answered by liquid when the key is absent.
            None if index == "size" => None,
            None => Some(&NIL),
        }
    }
}

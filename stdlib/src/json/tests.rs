use crate::testing::eval_str;

const DOC: &str = r#"fn count(xs) { let n = 0; for x in xs { n += 1; } n } let o = JObject__Parse("{\"a\": {\"b\": [1, 2.5, \"x\"]}, \"s\": \"str\", \"t\": true, \"n\": null}");"#;

fn with_doc(src: &str) -> String {
    eval_str(&format!("{DOC} {src}"))
}

#[test]
fn parse_index_and_types() {
    assert_eq!(with_doc(r#"o["a"]["b"][1].ToString()"#), "2.5");
    assert_eq!(with_doc(r#"o["a"]["b"][2].ToString()"#), "x");
    assert_eq!(with_doc(r#"o["t"].ToString()"#), "True");
    assert_eq!(with_doc(r#"o["n"].ToString()"#), "");
    assert_eq!(with_doc(r#"o["missing"] == ()"#), "true");
    assert_eq!(with_doc(r#"__eq(o["n"], ())"#), "false");
    assert_eq!(with_doc(r#"o["n"].Type"#), "Null");
    assert_eq!(with_doc(r#"o["n"].Type == JTokenType__Null()"#), "true");
    assert_eq!(with_doc(r#"o["a"].Type"#), "Object");
    assert_eq!(with_doc(r#"o["a"]["b"].Type"#), "Array");
    assert_eq!(with_doc(r#"o["a"]["b"][0].Type"#), "Integer");
    assert_eq!(with_doc(r#"o["a"]["b"][1].Type"#), "Float");
    assert_eq!(with_doc(r#"type_of(o["a"]["b"])"#), "JArray");
    assert_eq!(with_doc(r#"__type(o["s"])"#), "JValue");
    assert_eq!(with_doc(r#"o.Count"#), "4");
    assert_eq!(
        with_doc(r#"o["a"]["b"][5]"#),
        "!ArgumentOutOfRangeException: Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')"
    );
    assert_eq!(
        with_doc(r#"o["s"]["x"]"#),
        "!InvalidOperationException: Cannot access child value on Newtonsoft.Json.Linq.JValue."
    );
    assert_eq!(
        with_doc(r#"o["a"]["b"]["x"]"#),
        "!ArgumentException: Accessed JArray values with invalid key value: \"x\". Int32 array index expected."
    );
    assert_eq!(
        with_doc(r#"o[0]"#),
        "!ArgumentException: Accessed JObject values with invalid key value: 0. Object property name expected."
    );
}

#[test]
fn parse_errors_are_json_reader_exceptions() {
    assert_eq!(
        eval_str(r#"JObject__Parse("")"#),
        "!JsonReaderException: Error reading JObject from JsonReader. Path '', line 0, position 0."
    );
    assert_eq!(
        eval_str(r#"JObject__Parse("<html>")"#),
        "!JsonReaderException: Unexpected character encountered while parsing value: <. Path '', line 0, position 0."
    );
    assert_eq!(
        eval_str(r#"JObject__Parse("[1]")"#),
        "!JsonReaderException: Error reading JObject from JsonReader. Current JsonReader item is not an object: StartArray. Path '', line 1, position 1."
    );
    assert_eq!(
        eval_str(r#"JArray__Parse("{}")"#),
        "!JsonReaderException: Error reading JArray from JsonReader. Current JsonReader item is not an array: StartObject. Path '', line 1, position 1."
    );
    assert_eq!(
        eval_str(r#"JObject__Parse("{\"a\": x}")"#),
        "!JsonReaderException: Unexpected character encountered while parsing value: x. Path 'a', line 1, position 7."
    );
    assert_eq!(
        eval_str(r#"JObject__Parse("{} x")"#),
        "!JsonReaderException: Additional text encountered after finished reading JSON content: x. Path '', line 1, position 4."
    );
    assert_eq!(
        eval_str(r#"JObject__Parse("{\"a\": \"x")"#),
        "!JsonReaderException: Unterminated string. Expected delimiter: \". Path 'a', line 1, position 8."
    );
    assert_eq!(
        eval_str(r#"JObject__Parse(())"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 'json')"
    );
    // Newtonsoft's leniency.
    assert_eq!(
        eval_str(
            r#"JObject__Parse("{a: 'x', /* c */ \"b\": [1,],}").ToString(Formatting__None())"#
        ),
        r#"{"a":"x","b":[1]}"#
    );
    assert_eq!(eval_str(r#"JToken__Parse("12").Type"#), "Integer");
    let deep = format!("JToken__Parse(\"{}\")", "[".repeat(70));
    assert!(
        eval_str(&deep)
            .starts_with("!JsonReaderException: The reader's MaxDepth of 64 has been exceeded.")
    );
}

#[test]
fn indented_and_compact_output() {
    let src = r#"let o = JObject__new(JProperty__new("a", 1), JProperty__new("b", JArray__new(1, "x")), JProperty__new("c", JObject__new()), JProperty__new("d", 2.0));"#;
    assert_eq!(
        eval_str(&format!("{src} o.ToString()")),
        "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    \"x\"\n  ],\n  \"c\": {},\n  \"d\": 2.0\n}"
    );
    assert_eq!(
        eval_str(&format!("{src} o.ToString(Formatting__None())")),
        r#"{"a":1,"b":[1,"x"],"c":{},"d":2.0}"#
    );
    assert_eq!(
        eval_str(&format!("{src} __str(o[\"b\"])")),
        "[\n  1,\n  \"x\"\n]"
    );
    assert_eq!(
        eval_str(&format!("{src} o.Property(\"a\").ToString()")),
        "\"a\": 1"
    );
    assert_eq!(
        eval_str(r#"JValue__new("q\"\n\u0001é").ToString(Formatting__None())"#),
        r#""q\"\n\u0001é""#
    );
    assert_eq!(
        eval_str(r#"JArray__new(1e20, 0.1, 1.0e-5).ToString(0)"#),
        "[1E+20,0.1,1E-05]"
    );
    assert_eq!(eval_str(r#"JArray__new().ToString()"#), "[]");
}

#[test]
fn reference_identity_and_parents() {
    assert_eq!(
        with_doc(r#"let a = o["a"]; a["c"] = 5; o["a"]["c"].ToString()"#),
        "5"
    );
    assert_eq!(with_doc(r#"o["a"]["b"].Add("y"); o["a"]["b"].Count"#), "4");
    assert_eq!(
        with_doc(r#"o["a"]["b"][0] = 9; o["a"]["b"][0].ToString()"#),
        "9"
    );
    assert_eq!(with_doc(r#"o["a"]["b"][2].Path"#), "a.b[2]");
    assert_eq!(with_doc(r#"o["a"]["b"].Parent.Name"#), "b");
    assert_eq!(with_doc(r#"o["a"]["b"].Parent.Parent == o["a"]"#), "true");
    assert_eq!(with_doc(r#"o["a"] == o["a"]"#), "true");
    assert_eq!(with_doc(r#"o["a"] == o["a"].DeepClone()"#), "false");
    assert_eq!(with_doc(r#"o.Parent"#), "");
    // Adding a token that has a parent adds a copy.
    assert_eq!(
        with_doc(
            r#"let c = JObject__new(); c["x"] = o["a"]; c["x"]["z"] = 1; o["a"].ContainsKey("z")"#
        ),
        "false"
    );
    assert_eq!(
        with_doc(r#"let c = JObject__new(); c["x"] = o["a"]; c["x"].Parent.Parent == c"#),
        "true"
    );
    // Adding an object to itself copies it: no cycles.
    assert_eq!(
        eval_str(r#"let o = JObject__new(); o["self"] = o; o.ToString(0)"#),
        r#"{"self":{}}"#
    );
    assert_eq!(
        eval_str(r#"let o = JObject__Parse("{\"a b\": [0]}"); o["a b"][0].Path"#),
        "['a b'][0]"
    );
}

#[test]
fn object_members() {
    assert_eq!(with_doc(r#"o.ContainsKey("s")"#), "true");
    assert_eq!(
        with_doc(r#"o.Remove("s") && !o.ContainsKey("s") && !o.Remove("s")"#),
        "true"
    );
    assert_eq!(with_doc(r#"o.Property("s").Value.ToString()"#), "str");
    assert_eq!(with_doc(r#"o.Property("nope")"#), "");
    assert_eq!(
        with_doc(r#"o.Property("s").Remove(); o.ContainsKey("s")"#),
        "false"
    );
    assert_eq!(
        with_doc(r#"let p = o.Property("s"); p.Value = "new"; o["s"].ToString()"#),
        "new"
    );
    assert_eq!(
        with_doc(r#"let names = ""; for p in o.Properties() { names += p.Name } names"#),
        "astn"
    );
    assert_eq!(
        with_doc(r#"let names = ""; for p in o { names += p.Key } names"#),
        "astn"
    );
    assert_eq!(with_doc(r#"o.TryGetValue__out("s")[0]"#), "true");
    assert_eq!(with_doc(r#"o.TryGetValue__out("zz")"#), "[false, ()]");
    assert_eq!(with_doc(r#"o.GetValue("s").ToString()"#), "str");
    assert_eq!(with_doc(r#"o.GetValue("S", 5).ToString()"#), "str");
    assert_eq!(
        with_doc(r#"o.Add("s", 1)"#),
        "!ArgumentException: Can not add property s to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."
    );
    assert_eq!(
        eval_str(
            r#"let o = JObject__new(); o.Add("k", "v"); o.Add(JProperty__new("n", ())); o.ToString(0)"#
        ),
        r#"{"k":"v","n":null}"#
    );
    assert_eq!(
        eval_str(r#"JObject__new(1)"#),
        "!ArgumentException: Can not add Newtonsoft.Json.Linq.JValue to Newtonsoft.Json.Linq.JObject."
    );
    assert_eq!(
        eval_str(r#"JObject__new([JProperty__new("a", 1), JProperty__new("b", 2)]).ToString(0)"#),
        r#"{"a":1,"b":2}"#
    );
    assert_eq!(with_doc(r#"o["a"].HasValues"#), "true");
    assert_eq!(
        eval_str(r#"JObject__Parse("{\"value\": []}")["value"].HasValues"#),
        "false"
    );
    assert_eq!(
        eval_str(
            r#"let a = JObject__Parse("{\"x\":{\"y\":1},\"k\":[1]}"); a.Merge(JObject__Parse("{\"x\":{\"z\":2},\"k\":[2],\"n\":null}")); a.ToString(0)"#
        ),
        r#"{"x":{"y":1,"z":2},"k":[1,2],"n":null}"#
    );
}

#[test]
fn array_members() {
    let a = r#"fn count(xs) { let n = 0; for x in xs { n += 1; } n } let a = JArray__Parse("[\"a\", \"b\", \"c\"]");"#;
    assert_eq!(
        eval_str(&format!("{a} a.RemoveAt(1); a.ToString(0)")),
        r#"["a","c"]"#
    );
    assert_eq!(
        eval_str(&format!("{a} a.Insert(0, 1); a.ToString(0)")),
        r#"[1,"a","b","c"]"#
    );
    assert_eq!(
        eval_str(&format!("{a} a.Remove(a[0]); a.ToString(0)")),
        r#"["b","c"]"#
    );
    assert_eq!(
        eval_str(&format!("{a} a.Remove(JValue__new(\"b\"))")),
        "false"
    );
    assert_eq!(
        eval_str(&format!("{a} a.First.ToString() + a.Last.ToString()")),
        "ac"
    );
    assert_eq!(
        eval_str(&format!(
            "{a} let s = \"\"; for x in a {{ s += x.ToString(); }} s"
        )),
        "abc"
    );
    assert_eq!(eval_str(&format!("{a} count(a.__items())")), "3");
    assert_eq!(
        eval_str(&format!("{a} a.RemoveAt(3)")),
        "!ArgumentOutOfRangeException: Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')"
    );
    assert_eq!(
        eval_str(r#"JArray__new(["x", "y"]).ToString(0)"#),
        r#"["x","y"]"#
    );
    assert_eq!(
        eval_str(r#"let a = JArray__new(); a.Add([1, [2]]); a.ToString(0)"#),
        "[1,2]"
    );
    assert_eq!(
        eval_str(r#"let a = JArray__Parse("[1]"); let b = JArray__new(a); b.Add(2); a.Count"#),
        "1"
    );
    assert_eq!(
        eval_str(r#"JValue__new(1).First"#),
        "!InvalidOperationException: Cannot access child value on Newtonsoft.Json.Linq.JValue."
    );
}

#[test]
fn token_mutation() {
    assert_eq!(with_doc(r#"o["s"].Replace("z"); o["s"].ToString()"#), "z");
    assert_eq!(
        with_doc(r#"o["a"]["b"][0].AddAfterSelf(7); o["a"]["b"].ToString(0)"#),
        r#"[1,7,2.5,"x"]"#
    );
    assert_eq!(
        with_doc(r#"o["a"]["b"][0].Remove(); o["a"]["b"].Count"#),
        "2"
    );
    assert_eq!(
        with_doc(r#"o["s"].Remove()"#),
        "!JsonException: Cannot add or remove items from Newtonsoft.Json.Linq.JProperty."
    );
    assert_eq!(
        eval_str(r#"JValue__new(1).Remove()"#),
        "!InvalidOperationException: The parent is missing."
    );
    assert_eq!(
        with_doc(r#"let v = o["s"]; v.Value = 3; o["s"].Type"#),
        "Integer"
    );
    assert_eq!(with_doc(r#"count(o["a"]["b"].Children())"#), "3");
    assert_eq!(with_doc(r#"o["a"]["b"][1].Next.ToString()"#), "x");
}

#[test]
fn explicit_conversions() {
    assert_eq!(with_doc(r#"__cast(o["s"], "string")"#), "str");
    assert_eq!(with_doc(r#"__cast(o["n"], "string")"#), "");
    assert_eq!(with_doc(r#"__cast(o["t"], "bool")"#), "true");
    assert_eq!(with_doc(r#"__cast(o["a"]["b"][0], "int")"#), "1");
    assert_eq!(with_doc(r#"__cast(o["a"]["b"][1], "int")"#), "2");
    assert_eq!(with_doc(r#"__cast(o["a"]["b"][1], "double")"#), "2.5");
    assert_eq!(with_doc(r#"__cast(o["a"]["b"][0], "string")"#), "1");
    assert_eq!(with_doc(r#"__cast(o["t"], "string")"#), "True");
    assert_eq!(
        with_doc(r#"__cast(o["n"], "int")"#),
        "!ArgumentException: Can not convert Null to Int32."
    );
    assert_eq!(with_doc(r#"__cast(o["n"], "int?")"#), "");
    assert_eq!(
        with_doc(r#"__cast(o["a"], "string")"#),
        "!ArgumentException: Can not convert Object to String."
    );
    assert_eq!(
        with_doc(r#"__cast(o["s"], "int")"#),
        "!FormatException: Input string was not in a correct format."
    );
    assert_eq!(
        eval_str(r#"let o = JObject__new(); o["c"] = "true"; __cast(o["c"], "bool")"#),
        "true"
    );
    assert_eq!(eval_str(r#"__cast(JValue__new("12"), "int")"#), "12");
    assert_eq!(
        eval_str(r#"__cast(JValue__new(3000000000), "int")"#),
        "!OverflowException: Value was either too large or too small for an Int32."
    );
    assert_eq!(with_doc(r#"__cast(o["a"], "JObject") == o["a"]"#), "true");
    assert_eq!(
        with_doc(r#"__cast(o["a"], "JArray")"#),
        "!InvalidCastException: Unable to cast object of type 'Newtonsoft.Json.Linq.JObject' to type 'Newtonsoft.Json.Linq.JArray'."
    );
    assert_eq!(
        with_doc(
            r#"__is(o["a"], "JToken") && __is(o["a"], "JContainer") && !__is(o["s"], "JContainer")"#
        ),
        "true"
    );
    assert_eq!(with_doc(r#"__cast(o.Property("s"), "string")"#), "str");
}

#[test]
fn generic_value_and_to_object() {
    assert_eq!(with_doc(r#"o.Value("String", "s")"#), "str");
    assert_eq!(with_doc(r#"o.Value("String", "missing")"#), "");
    assert_eq!(with_doc(r#"o.Value("Int32", "missing")"#), "0");
    assert_eq!(with_doc(r#"o.Value("Boolean", "t")"#), "true");
    assert_eq!(with_doc(r#"o["a"]["b"][0].Value("Int32")"#), "1");
    assert_eq!(with_doc(r#"o["a"]["b"][1].Value("String")"#), "2.5");
    assert_eq!(
        with_doc(r#"o.Value("Int32", "n")"#),
        "!InvalidCastException: Null object cannot be converted to a value type."
    );
    assert_eq!(
        with_doc(r#"o.Value("String", "a")"#),
        "!InvalidCastException: Cannot cast Newtonsoft.Json.Linq.JObject to Newtonsoft.Json.Linq.JToken."
    );
    assert_eq!(
        with_doc(r#"let c = o["a"]["b"].ToObject("JArray"); c.Add(1); o["a"]["b"].Count"#),
        "3"
    );
    assert_eq!(
        with_doc(r#"o["a"].ToObject("JArray")"#),
        "!JsonSerializationException: Deserialized JSON type 'Newtonsoft.Json.Linq.JObject' is not compatible with expected type 'Newtonsoft.Json.Linq.JArray'."
    );
    assert_eq!(with_doc(r#"o["s"].ToObject("string")"#), "str");
    assert_eq!(with_doc(r#"o["s"].Value"#), "str");
    assert_eq!(with_doc(r#"o["a"]["b"][0].Value + 1"#), "2");
}

#[test]
fn select_token() {
    assert_eq!(with_doc(r#"o.SelectToken("a.b[2]").ToString()"#), "x");
    assert_eq!(with_doc(r#"o.SelectToken("$.a.b[0]").ToString()"#), "1");
    assert_eq!(
        with_doc(r#"o.SelectToken("['a']['b'][1]").ToString()"#),
        "2.5"
    );
    assert_eq!(with_doc(r#"o.SelectToken("s").ToString()"#), "str");
    assert_eq!(with_doc(r#"o.SelectToken("a.zz")"#), "");
    assert_eq!(
        with_doc(r#"o.SelectToken("a.zz", true)"#),
        "!JsonException: Property 'zz' does not exist on JObject."
    );
    assert_eq!(
        with_doc(r#"o.SelectToken("a.b[*]")"#),
        "!JsonException: Path returned multiple tokens."
    );
    assert_eq!(with_doc(r#"count(o.SelectTokens("a.b[*]"))"#), "3");
    assert_eq!(with_doc(r#"count(o.SelectTokens("$..b"))"#), "1");
    assert!(with_doc(r#"o.SelectToken("a[?(@.x)]")"#).starts_with("!NotSupportedException"));
}

#[test]
fn values_into_json() {
    assert_eq!(
        eval_str(
            r#"JsonConvert__SerializeObject(__anon(["typ", "alg", "n"], ["JWT", "HS256", ()]))"#
        ),
        r#"{"typ":"JWT","alg":"HS256","n":null}"#
    );
    assert_eq!(
        eval_str(
            r#"JsonConvert__SerializeObject(__anon(["error"], [__anon(["message", "list"], ["m", ["a", 1, 2.5, true]])]))"#
        ),
        r#"{"error":{"message":"m","list":["a",1,2.5,true]}}"#
    );
    assert_eq!(
        eval_str(r#"JsonConvert__SerializeObject(__anon(["a"], [1]), Formatting__Indented())"#),
        "{\n  \"a\": 1\n}"
    );
    assert_eq!(
        eval_str(r#"JsonConvert__SerializeObject("x\"y")"#),
        r#""x\"y""#
    );
    assert_eq!(eval_str(r#"JsonConvert__SerializeObject(())"#), "null");
    assert_eq!(
        eval_str(r#"JsonConvert__SerializeObject(JObject__Parse("{\"a\" : [ 1 ]}"))"#),
        r#"{"a":[1]}"#
    );
    assert_eq!(
        eval_str(r#"JsonConvert__SerializeObject(#{b: 1, a: 2})"#),
        r#"{"a":2,"b":1}"#
    );
    assert_eq!(
        eval_str(r#"JObject__FromObject(__anon(["x"], [1])).ToString(0)"#),
        r#"{"x":1}"#
    );
    assert_eq!(
        eval_str(r#"JObject__FromObject("s")"#),
        "!ArgumentException: Object serialized to String. JObject instance expected."
    );
    assert_eq!(
        eval_str(r#"JProperty__new("p", __anon(["x"], [1]))"#),
        "!ArgumentException: Could not determine JSON object type for type Anonymous."
    );
    assert_eq!(
        eval_str(r#"JProperty__new("p", ["a", "b"]).Value.Type"#),
        "Array"
    );
    assert_eq!(
        eval_str(r#"let o = JObject__new(); o["c"] = 'x'; o.ToString(0)"#),
        r#"{"c":"x"}"#
    );
}

#[test]
fn deserialize_object() {
    assert_eq!(
        eval_str(r#"JsonConvert__DeserializeObject("{\"a\":1}")["a"].ToString()"#),
        "1"
    );
    assert_eq!(eval_str(r#"JsonConvert__DeserializeObject("5")"#), "5");
    assert_eq!(eval_str(r#"JsonConvert__DeserializeObject("")"#), "");
    assert_eq!(
        eval_str(r#"type_of(JsonConvert__DeserializeObject("JObject", "{}"))"#),
        "JObject"
    );
    assert_eq!(
        eval_str(r#"JsonConvert__DeserializeObject("JObject", "[]")"#),
        "!JsonReaderException: Error reading JObject from JsonReader. Current JsonReader item is not an object: StartArray. Path '', line 1, position 1."
    );
    assert_eq!(
        eval_str(r#"JsonConvert__DeserializeObject("int", "42")"#),
        "42"
    );
    assert_eq!(
        eval_str(
            r#"type_of(JsonConvert__DeserializeObject("Dictionary<string,string>", "{\"a\":\"b\"}"))"#
        ),
        "JObject"
    );
    assert_eq!(
        eval_str(r#"JsonConvert__DeserializeObject(())"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 'value')"
    );
}

#[test]
fn jvalue_and_statics() {
    assert_eq!(eval_str(r#"JValue__new(1.5).ToString()"#), "1.5");
    assert_eq!(eval_str(r#"JValue__new(false).ToString()"#), "False");
    assert_eq!(eval_str(r#"JValue__CreateNull().Type"#), "Null");
    assert_eq!(
        eval_str(r#"JValue__new("a").Equals(JValue__new("a"))"#),
        "true"
    );
    assert_eq!(
        eval_str(
            r#"JToken__DeepEquals(JToken__Parse("{\"a\":[1]}"), JToken__Parse("{\"a\":[1]}"))"#
        ),
        "true"
    );
    assert_eq!(eval_str(r#"Formatting__Indented()"#), "1");
    assert_eq!(eval_str(r#"JTokenType__Object()"#), "Object");
    assert_eq!(
        super::parse_json("[1]")
            .map(|v| v.type_name().rsplit("::").next().unwrap_or("").to_owned())
            .ok()
            .as_deref(),
        Some("JArray")
    );
}

//! Newtonsoft.Json: JToken, JObject, JArray, JProperty, JValue, JsonConvert, Formatting.
//!
//! Not written yet: registers nothing.

use rhai::Engine;

pub(crate) fn register(_e: &mut Engine) {}

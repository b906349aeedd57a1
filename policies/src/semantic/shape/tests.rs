use super::*;

fn chat(body: &str) -> Result<Prompt, Skip> {
    analyze("/openai/v1/chat/completions", body.as_bytes(), false)
}

#[test]
fn chat_embeds_the_last_user_turn_and_keeps_the_rest_as_context() {
    let p = chat(
        r#"{"model":"gpt-4o","messages":[
            {"role":"system","content":"Be brief."},
            {"role":"user","content":"Hi"},
            {"role":"assistant","content":"Hello!"},
            {"role":"user","content":"What is the capital of France?"}]}"#,
    )
    .unwrap_or_else(|s| panic!("{s:?}"));
    assert_eq!(p.shape, Shape::Chat);
    assert_eq!(p.text, "What is the capital of France?");
    assert_eq!(p.messages, 4);
    assert!(p.context.contains("Be brief."));
    assert!(p.context.contains("Hello!"));
    assert!(p.context.contains("gpt-4o"));
    assert!(!p.context.contains("capital"));
    assert!(!p.streaming);
}

#[test]
fn ignoring_system_messages_drops_them_from_context_and_count() {
    let body = r#"{"messages":[{"role":"system","content":"A"},{"role":"developer","content":"B"},
        {"role":"user","content":"q"}]}"#;
    let kept = chat(body).unwrap_or_else(|s| panic!("{s:?}"));
    let dropped =
        analyze("/chat/completions", body.as_bytes(), true).unwrap_or_else(|s| panic!("{s:?}"));
    assert_eq!(kept.messages, 3);
    assert_eq!(dropped.messages, 1);
    assert!(kept.context.contains("\"A\""));
    assert!(!dropped.context.contains("\"A\""));
    assert!(!dropped.context.contains("\"B\""));
    // Another system prompt: another context, unless ignored.
    let other = r#"{"messages":[{"role":"system","content":"Z"},{"role":"user","content":"q"}]}"#;
    assert_ne!(chat(other).map(|p| p.context), Ok(kept.context));
    let other_ignored = analyze("/chat/completions", other.as_bytes(), true).map(|p| p.context);
    assert_eq!(other_ignored, Ok(dropped.context));
}

#[test]
fn key_order_and_whitespace_do_not_change_the_context() {
    let a = chat(r#"{"model":"m","n":1,"messages":[{"role":"user","content":"q"}]}"#);
    let b = chat(r#"{ "messages" : [ {"content":"q","role":"user"} ], "n":1, "model":"m" }"#);
    assert_eq!(a.map(|p| p.context), b.map(|p| p.context));
}

#[test]
fn answer_shaping_fields_change_the_context_and_others_do_not() {
    let base =
        chat(r#"{"model":"m","messages":[{"role":"user","content":"q"}]}"#).map(|p| p.context);
    for other in [
        r#"{"model":"m2","messages":[{"role":"user","content":"q"}]}"#,
        r#"{"model":"m","n":2,"messages":[{"role":"user","content":"q"}]}"#,
        r#"{"model":"m","tools":[{"type":"function"}],"messages":[{"role":"user","content":"q"}]}"#,
        r#"{"model":"m","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"q"}]}"#,
        r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"q"}]}"#,
        // Anything that may change what the answer holds, known or not.
        r#"{"model":"m","logprobs":true,"top_logprobs":3,"messages":[{"role":"user","content":"q"}]}"#,
        r#"{"model":"m","modalities":["text","audio"],"messages":[{"role":"user","content":"q"}]}"#,
        r#"{"model":"m","reasoning_effort":"high","messages":[{"role":"user","content":"q"}]}"#,
        r#"{"model":"m","stop":["\n"],"messages":[{"role":"user","content":"q"}]}"#,
        r#"{"model":"m","some_future_field":1,"messages":[{"role":"user","content":"q"}]}"#,
    ] {
        assert_ne!(chat(other).map(|p| p.context), base, "{other}");
    }
    let same = chat(
        r#"{"model":"m","temperature":0.3,"top_p":0.9,"seed":7,"user":"u1","max_tokens":50,
            "max_completion_tokens":60,"metadata":{"a":"b"},"store":true,"messages":[{"role":"user","content":"q"}]}"#,
    );
    assert_eq!(same.map(|p| p.context), base);
    let stream = chat(r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"q"}]}"#);
    let with_usage = chat(
        r#"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"q"}]}"#,
    );
    assert_ne!(stream.map(|p| p.context), with_usage.map(|p| p.context));
}

#[test]
fn anthropic_thinking_and_responses_reasoning_partition() {
    let anthropic = |extra: &str| {
        analyze(
            "/v1/messages",
            format!(r#"{{"model":"c","max_tokens":100{extra},"messages":[{{"role":"user","content":"q"}}]}}"#).as_bytes(),
            false,
        )
        .map(|p| p.context)
    };
    assert_ne!(
        anthropic(""),
        anthropic(r#","thinking":{"type":"enabled","budget_tokens":1024}"#)
    );
    assert_eq!(anthropic(""), anthropic(r#","temperature":1,"top_k":5"#));
    let responses = |extra: &str| {
        analyze(
            "/v1/responses",
            format!(r#"{{"model":"m","input":"q"{extra}}}"#).as_bytes(),
            false,
        )
        .map(|p| p.context)
    };
    assert_ne!(
        responses(""),
        responses(r#","reasoning":{"effort":"high"}"#)
    );
    assert_ne!(
        responses(""),
        responses(r#","include":["reasoning.encrypted_content"]"#)
    );
    assert_eq!(responses(""), responses(r#","max_output_tokens":99"#));
}

#[test]
fn text_parts_are_joined_and_images_skip() {
    let p = chat(
        r#"{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}"#,
    );
    assert_eq!(p.map(|p| p.text), Ok("a\nb".to_owned()));
    let img = chat(
        r#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#,
    );
    assert_eq!(img, Err(Skip::NonTextContent));
    let earlier_audio = chat(
        r#"{"messages":[{"role":"user","content":[{"type":"input_audio"}]},{"role":"user","content":"q"}]}"#,
    );
    assert_eq!(earlier_audio, Err(Skip::NonTextContent));
}

#[test]
fn streaming_is_read() {
    let p = chat(r#"{"stream":true,"messages":[{"role":"user","content":"q"}]}"#);
    assert_eq!(p.map(|p| p.streaming), Ok(true));
}

#[test]
fn completions_embed_the_prompt() {
    let p = analyze(
        "/v1/completions",
        br#"{"model":"m","prompt":"Say hi"}"#,
        false,
    );
    assert_eq!(
        p.as_ref().map(|p| (p.shape, p.text.as_str())),
        Ok((Shape::Completions, "Say hi"))
    );
    let tokens = analyze("/v1/completions", br#"{"prompt":[1,2,3]}"#, false);
    assert_eq!(tokens, Err(Skip::NonTextContent));
    let one = analyze("/v1/completions", br#"{"prompt":["Say hi"]}"#, false);
    assert_eq!(one.map(|p| p.text), Ok("Say hi".to_owned()));
    let batch = analyze(
        "/v1/completions",
        br#"{"prompt":["Say hi","Say bye"]}"#,
        false,
    );
    assert_eq!(batch, Err(Skip::UnsupportedShape));
}

#[test]
fn responses_embed_the_last_user_input_and_keep_instructions() {
    let p = analyze(
        "/v1/responses",
        br#"{"model":"m","instructions":"Be terse","input":"Tell me a joke"}"#,
        false,
    )
    .unwrap_or_else(|s| panic!("{s:?}"));
    assert_eq!(
        (p.shape, p.text.as_str()),
        (Shape::Responses, "Tell me a joke")
    );
    assert!(p.context.contains("Be terse"));
    let ignored = analyze(
        "/v1/responses",
        br#"{"model":"m","instructions":"Be terse","input":[{"role":"user","content":[{"type":"input_text","text":"Tell me a joke"}]}]}"#,
        true,
    )
    .unwrap_or_else(|s| panic!("{s:?}"));
    assert_eq!(ignored.text, "Tell me a joke");
    assert!(!ignored.context.contains("Be terse"));
}

#[test]
fn anthropic_messages_keep_the_top_level_system() {
    let body = br#"{"model":"claude","max_tokens":100,"system":"You are a poet","messages":[{"role":"user","content":[{"type":"text","text":"Write a haiku"}]}]}"#;
    let p = analyze("/v1/messages", body, false).unwrap_or_else(|s| panic!("{s:?}"));
    assert_eq!(
        (p.shape, p.text.as_str()),
        (Shape::Anthropic, "Write a haiku")
    );
    assert!(p.context.contains("You are a poet"));
    let q = analyze("/v1/messages", body, true).unwrap_or_else(|s| panic!("{s:?}"));
    assert!(!q.context.contains("You are a poet"));
    // Detected from the body too.
    assert_eq!(
        analyze("/api", body, false).map(|p| p.shape),
        Ok(Shape::Anthropic)
    );
}

#[test]
fn what_is_not_a_prompt_skips() {
    assert_eq!(chat("not json"), Err(Skip::NotJson));
    assert_eq!(chat("[1]"), Err(Skip::NotJson));
    assert_eq!(
        analyze("/v1/embeddings", br#"{"input":"x","model":"m"}"#, false),
        Err(Skip::UnsupportedShape)
    );
    assert_eq!(
        chat(r#"{"messages":[{"role":"assistant","content":"x"}]}"#),
        Err(Skip::NoUserTurn)
    );
    assert_eq!(
        chat(r#"{"messages":[{"role":"user","content":"  "}]}"#),
        Err(Skip::NoUserTurn)
    );
}

/// The context text as it was written before the reading streamed (a
/// sorted copy, written by serde_json): cache keys must not change.
fn canonical_by_copy(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

#[test]
fn the_context_text_is_the_same_as_a_sorted_copy_gives() {
    let v: Value = serde_json::from_str(
        r#"{"z":1,"a":{"y":[1.5,-2,1e300,"x\"\u00e9\n",null,true],"b":{}},"é":[],"A":"\u0001","@":0}"#,
    )
    .unwrap();
    let mut out = String::new();
    canonical(&v, &mut out);
    assert_eq!(out, canonical_by_copy(&v));
}

fn many_messages(n: usize, tail: &str) -> String {
    let mut body = String::from(r#"{"model":"m","messages":["#);
    for i in 0..n {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        body.push_str(&format!(r#"{{"role":"{role}","content":"m{i}"}},"#));
    }
    body.push_str(tail);
    body
}

#[test]
fn max_message_count_stops_the_reading_early() {
    let bounds = |max| Bounds {
        max_messages: Some(max),
        max_bytes: 64 << 20,
    };
    // The rest of the body is not read: the broken tail is never seen.
    let body = many_messages(100, "this is not JSON");
    assert_eq!(
        analyze_bounded("/chat/completions", body.as_bytes(), false, bounds(50)),
        Err(Skip::TooManyMessages)
    );
    // At the cap, the whole body is read.
    let body = many_messages(50, r#"{"role":"user","content":"q"}]}"#);
    assert_eq!(
        analyze_bounded("/chat/completions", body.as_bytes(), false, bounds(50)),
        Err(Skip::TooManyMessages),
        "51 messages"
    );
    let p = analyze_bounded("/chat/completions", body.as_bytes(), false, bounds(51))
        .unwrap_or_else(|s| panic!("{s:?}"));
    assert_eq!((p.messages, p.text.as_str()), (51, "q"));
    // System messages count unless ignored, as after the reading.
    let body = r#"{"messages":[{"role":"system","content":"s"},{"role":"user","content":"q"}]}"#;
    let read = |ignore| analyze_bounded("/chat/completions", body.as_bytes(), ignore, bounds(1));
    assert_eq!(read(false), Err(Skip::TooManyMessages));
    assert_eq!(read(true).map(|p| p.messages), Ok(1));
    // Responses' `input` items are counted the same way.
    let body =
        r#"{"model":"m","input":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}"#;
    assert_eq!(
        analyze_bounded("/v1/responses", body.as_bytes(), false, bounds(1)),
        Err(Skip::TooManyMessages)
    );
}

#[test]
fn a_body_over_the_memory_bound_is_too_large() {
    let body = many_messages(1000, r#"{"role":"user","content":"q"}]}"#);
    let bounds = |max_bytes| Bounds {
        max_messages: None,
        max_bytes,
    };
    assert_eq!(
        analyze_bounded(
            "/chat/completions",
            body.as_bytes(),
            false,
            bounds(body.len())
        ),
        Err(Skip::TooLarge)
    );
    let p = analyze_bounded(
        "/chat/completions",
        body.as_bytes(),
        false,
        bounds(64 << 20),
    )
    .unwrap_or_else(|s| panic!("{s:?}"));
    assert_eq!(p.messages, 1001);
    assert_eq!(Skip::TooLarge.reason(), "too-large");
}

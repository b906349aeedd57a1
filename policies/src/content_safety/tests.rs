use super::*;

#[test]
fn prompt_text_reads_chat_completion_and_responses_requests() {
    let chat = br#"{"messages":[{"role":"system","content":"Be kind."},
        {"role":"user","content":[{"type":"text","text":"Hello"},{"type":"image_url","image_url":{"url":"x"}}]}]}"#;
    assert_eq!(prompt_text(chat).as_deref(), Some("Be kind.\nHello"));
    assert_eq!(
        prompt_text(br#"{"prompt":["one","two"]}"#).as_deref(),
        Some("one\ntwo")
    );
    assert_eq!(
        prompt_text(br#"{"input":[{"role":"user","content":"hi"}]}"#).as_deref(),
        Some("hi")
    );
    assert_eq!(
        prompt_text(br#"{"input":"plain"}"#).as_deref(),
        Some("plain")
    );
    assert_eq!(prompt_text(b"not json"), None);
    assert_eq!(prompt_text(br#"{"messages":[]}"#), None);
}

#[test]
fn completion_text_reads_answers_whole_and_streamed() {
    let chat = br#"{"choices":[{"message":{"role":"assistant","content":"Paris."}}]}"#;
    assert_eq!(completion_text(chat).as_deref(), Some("Paris."));
    let completion = br#"{"choices":[{"text":"Lyon"}]}"#;
    assert_eq!(completion_text(completion).as_deref(), Some("Lyon"));
    let stream = b"data: {\"choices\":[{\"delta\":{\"content\":\"Par\"}}]}\n\n\
        data: {\"choices\":[{\"delta\":{\"content\":\"is.\"}}]}\n\ndata: [DONE]\n\n";
    assert_eq!(completion_text(stream).as_deref(), Some("Paris."));
    assert_eq!(completion_text(br#"{"error":{"message":"x"}}"#), None);
}

#[test]
fn windows_overlap_by_characters() {
    assert_eq!(windows("abcdef", None, 0), vec!["abcdef"]);
    assert_eq!(windows("abcdef", Some(4), 0), vec!["abcd", "ef"]);
    assert_eq!(windows("abcdef", Some(4), 2), vec!["abcd", "cdef"]);
    assert_eq!(windows("ééééé", Some(2), 0), vec!["éé", "éé", "é"]);
    assert_eq!(windows("abc", Some(10), 3), vec!["abc"]);
}

#[test]
fn analyze_request_carries_categories_blocklists_and_output_type() {
    let body = analyze_request(
        "hi",
        &[("Hate".into(), 4)],
        &["list1".into()],
        "EightSeverityLevels",
    );
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        json!({"text":"hi","categories":["Hate"],"blocklistNames":["list1"],
               "haltOnBlocklistHit":true,"outputType":"EightSeverityLevels"})
    );
    let v: Value =
        serde_json::from_slice(&analyze_request("hi", &[], &[], "FourSeverityLevels")).unwrap();
    assert_eq!(v, json!({"text":"hi","outputType":"FourSeverityLevels"}));
    let v: Value = serde_json::from_slice(&shield_request("p")).unwrap();
    assert_eq!(v, json!({"userPrompt":"p","documents":[]}));
}

#[test]
fn a_severity_at_the_threshold_blocks_below_it_does_not() {
    let answer = br#"{"blocklistsMatch":[],"categoriesAnalysis":[{"category":"Hate","severity":4},{"category":"Violence","severity":2}]}"#;
    let cats = |t: i64| vec![("Hate".to_owned(), t), ("Violence".to_owned(), 7)];
    assert!(
        analyze_verdict(answer, &cats(4))
            .unwrap()
            .unwrap()
            .contains("Hate")
    );
    assert_eq!(analyze_verdict(answer, &cats(5)).unwrap(), None);
    // A category not configured never blocks.
    assert_eq!(analyze_verdict(answer, &[]).unwrap(), None);
    let hit = br#"{"blocklistsMatch":[{"blocklistName":"b1","blocklistItemId":"i","blocklistItemText":"t"}],"categoriesAnalysis":[]}"#;
    assert!(analyze_verdict(hit, &[]).unwrap().unwrap().contains("b1"));
    assert!(analyze_verdict(b"{}", &cats(1)).is_err());
}

#[test]
fn shield_verdict_reads_user_prompt_and_documents() {
    assert!(
        shield_verdict(br#"{"userPromptAnalysis":{"attackDetected":true},"documentsAnalysis":[]}"#)
            .unwrap()
    );
    assert!(
        !shield_verdict(
            br#"{"userPromptAnalysis":{"attackDetected":false},"documentsAnalysis":[]}"#
        )
        .unwrap()
    );
    assert!(shield_verdict(br#"{"userPromptAnalysis":{"attackDetected":false},"documentsAnalysis":[{"attackDetected":true}]}"#).unwrap());
    assert!(shield_verdict(br#"{"error":{"code":"x"}}"#).is_err());
}

#[test]
fn an_outage_is_counted_every_time() {
    let registry = Registry::new();
    let s = ContentSafety::new(&registry, false).unwrap();
    s.failed("cs", "timeout", "no answer");
    s.failed("cs", "timeout", "no answer");
    s.answered("cs");
    s.count_check(Direction::Request, "error");
    let text = registry
        .gather()
        .iter()
        .flat_map(|f| {
            f.get_metric()
                .iter()
                .map(move |m| (f.name().to_owned(), m.get_counter().get_value()))
        })
        .collect::<Vec<_>>();
    assert!(
        text.contains(&("sluice_content_safety_errors_total".to_owned(), 2.0)),
        "{text:?}"
    );
    assert!(
        text.contains(&("sluice_content_safety_checks_total".to_owned(), 1.0)),
        "{text:?}"
    );
    assert!(s.failing.lock().unwrap().is_empty());
}

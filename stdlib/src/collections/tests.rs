use rhai::Dynamic;

use crate::core::exception_of;
use crate::testing::eval_str;

#[test]
fn list_members() {
    let l = r#"let l = List__new("String"); l.Add("b"); l.Add("a"); l.Add("C");"#;
    assert_eq!(
        eval_str(&format!(
            "{l} [l.Count, l[0], l.Contains(\"a\"), l.IndexOf(\"C\"), l.IndexOf(\"x\")]"
        )),
        r#"[3, "b", true, 2, -1]"#
    );
    assert_eq!(
        eval_str(&format!("{l} l.Sort(); l.ToArray()")),
        r#"["a", "b", "C"]"#
    );
    assert_eq!(
        eval_str(&format!(
            "{l} l.Reverse(); l.Insert(0, \"z\"); l.RemoveAt(1); l.Remove(\"a\"); l.ToArray()"
        )),
        r#"["z", "b"]"#
    );
    assert_eq!(
        eval_str(&format!(
            "{l} l[1] = \"x\"; let m = l; m.Add(\"y\"); [l.Count, l[1]]"
        )),
        r#"[4, "x"]"#
    );
    assert_eq!(
        eval_str(&format!("{l} l[3]")),
        "!ArgumentOutOfRangeException: Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')"
    );
    assert_eq!(
        eval_str(&format!("{l} l[-1] = 1")),
        "!ArgumentOutOfRangeException: Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')"
    );
    assert_eq!(
        eval_str(&format!("{l} l.Insert(9, 1)")),
        "!ArgumentOutOfRangeException: Index must be within the bounds of the List. (Parameter 'index')"
    );
    assert_eq!(
        eval_str(&format!("{l} [l.RemoveAll(|s| s != \"a\"), l.Count]")),
        "[2, 1]"
    );
    assert_eq!(
        eval_str(&format!(
            "{l} [l.Find(|s| s > \"a\"), l.Find(|s| s == \"q\"), l.Exists(|s| s == \"C\"), l.FindAll(|s| s != \"C\").Count]"
        )),
        r#"["b", (), true, 2]"#
    );
    assert_eq!(
        eval_str(&format!(
            "{l} let n = 0; l.ForEach(|s| n += 1); l.ToString()"
        )),
        "System.Collections.Generic.List`1[System.String]"
    );
    assert_eq!(
        eval_str(&format!("{l} let s = \"\"; for x in l {{ s += x; }} s")),
        "baC"
    );
    assert_eq!(
        eval_str(
            "let l = List__new(\"Int32\", [3, 1, 2]); l.AddRange([5]); l.Sort(|a, b| b - a); l.ToArray()"
        ),
        "[5, 3, 2, 1]"
    );
    assert_eq!(
        eval_str("let l = List__new(\"Int32\", 10); l.Add(4); l.Clear(); l.Count"),
        "0"
    );
    assert_eq!(
        eval_str("List__new(\"Int32\", [1, 2, 3, 4]).GetRange(1, 2).ToArray()"),
        "[2, 3]"
    );
}

#[test]
fn dictionary_members() {
    let d = r#"let d = Dictionary__new("String", "Int32"); d.Add("Hate", 0); d.Add("Sexual", 2);"#;
    assert_eq!(
        eval_str(&format!(
            "{d} [d.Count, d[\"Sexual\"], d.ContainsKey(\"Hate\"), d.ContainsKey(\"hate\"), d.ContainsValue(2)]"
        )),
        "[2, 2, true, false, true]"
    );
    assert_eq!(
        eval_str(&format!("{d} d.Add(\"Hate\", 1)")),
        "!ArgumentException: An item with the same key has already been added. Key: Hate"
    );
    assert_eq!(
        eval_str(&format!("{d} d[\"x\"]")),
        "!KeyNotFoundException: The given key 'x' was not present in the dictionary."
    );
    assert_eq!(
        eval_str(&format!("{d} d[()]")),
        "!ArgumentNullException: Value cannot be null. (Parameter 'key')"
    );
    assert_eq!(
        eval_str(&format!(
            "{d} d[\"x\"] = 5; d[\"Hate\"] = 7; [d.Keys, d.Values]"
        )),
        r#"[["Hate", "Sexual", "x"], [7, 2, 5]]"#
    );
    assert_eq!(
        eval_str(&format!(
            "{d} [d.TryGetValue__out(\"Hate\"), d.TryGetValue__out(\"no\")]"
        )),
        "[[true, 0], [false, 0]]"
    );
    assert_eq!(
        eval_str(&format!(
            "{d} [d.GetValueOrDefault(\"no\"), d.GetValueOrDefault(\"no\", 9), d.Remove(\"Hate\"), d.Remove(\"Hate\"), d.Count]"
        )),
        "[0, 9, true, false, 1]"
    );
    assert_eq!(
        eval_str(&format!(
            "{d} let s = \"\"; for kv in d {{ s += `${{kv.Key}}=${{kv.Value}};`; }} s"
        )),
        "Hate=0;Sexual=2;"
    );
    assert_eq!(
        eval_str(&format!("{d} d.__items()[1].ToString()")),
        "[Sexual, 2]"
    );
    assert_eq!(
        eval_str(&format!("{d} d.ToString()")),
        "System.Collections.Generic.Dictionary`2[System.String,System.Int32]"
    );
    let ci = r#"let d = Dictionary__new("String", "String", StringComparer__OrdinalIgnoreCase()); d["Content-Type"] = "a";"#;
    assert_eq!(
        eval_str(&format!(
            "{ci} [d[\"content-type\"], d.ContainsKey(\"CONTENT-TYPE\"), d.Keys]"
        )),
        r#"["a", true, ["Content-Type"]]"#
    );
    assert_eq!(eval_str(&format!("{ci} d.Clear(); d.Count")), "0");
    assert_eq!(
        eval_str(
            "let d = Dictionary__new(\"Int32\", \"String\"); d.Add(1, \"a\"); [d[1], d.ContainsKey(\"1\"), d.GetValueOrDefault(2)]"
        ),
        r#"["a", false, ()]"#
    );
}

#[test]
fn hash_set_and_comparers() {
    let h = r#"let h = HashSet__new("String"); let a = h.Add("x"); let b = h.Add("x");"#;
    assert_eq!(
        eval_str(&format!(
            "{h} [a, b, h.Count, h.Contains(\"x\"), h.Remove(\"x\"), h.Count]"
        )),
        "[true, false, 1, true, true, 0]"
    );
    assert_eq!(
        eval_str(
            "let h = HashSet__new(\"String\", [\"a\", \"A\"], StringComparer__OrdinalIgnoreCase()); [h.Count, h.Contains(\"a\")]"
        ),
        "[1, true]"
    );
    assert_eq!(
        eval_str(r#"["post", "put"].Contains("PUT", StringComparer__OrdinalIgnoreCase())"#),
        "true"
    );
    assert_eq!(eval_str(r#"["post", "put"].Contains("PUT")"#), "false");
    assert_eq!(
        eval_str(r#"StringComparer__OrdinalIgnoreCase().Equals("a", "A")"#),
        "true"
    );
}

#[test]
fn array_members() {
    assert_eq!(eval_str("[1, 2, 3].Length"), "3");
    assert_eq!(eval_str("Array__IndexOf([\"a\", \"b\"], \"b\")"), "1");
    assert_eq!(eval_str("Array__Empty(\"String\").Length"), "0");
    assert_eq!(
        eval_str(r#"Array__Exists(["read", "sendEmail"], |e| e == "sendEmail")"#),
        "true"
    );
    assert_eq!(
        eval_str(r#"Array__Exists((), |e| true)"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 'array')"
    );
    let engine = crate::engine(&crate::Limits::default());
    let mut scope = rhai::Scope::new();
    scope
        .push("g", rhai::Blob::from([0u8; 4]))
        .push("src", rhai::Blob::from([7u8; 3]));
    let copied = engine
        .eval_with_scope::<rhai::Blob>(&mut scope, "g = Array__Copy(src, 0, g, 1, 3); g")
        .unwrap();
    assert_eq!(copied, vec![0, 7, 7, 7]);
    let err = engine
        .eval_with_scope::<Dynamic>(&mut scope, "Array__Copy(src, 2, g, 0, 3)")
        .unwrap_err();
    assert_eq!(exception_of(&err).unwrap().type_name, "ArgumentException");
    assert_eq!(eval_str("[1, 2].Length"), "2");
    assert_eq!(eval_str("Array__Copy([1, 2], [0, 0, 0], 2)"), "[1, 2, 0]");
}

#[test]
fn linq_filters_and_projections() {
    assert_eq!(eval_str("[1, 2, 3, 4].Where(|x| x % 2 == 0)"), "[2, 4]");
    assert_eq!(eval_str("[1, 2, 3, 4].Where(|x, i| i > 1)"), "[3, 4]");
    assert_eq!(eval_str("[1, 2].Select(|x| x * 10)"), "[10, 20]");
    assert_eq!(
        eval_str("[\"a\", \"b\"].Select(|x, i| `${x}${i}`)"),
        r#"["a0", "b1"]"#
    );
    assert_eq!(eval_str("[[1, 2], [3]].SelectMany(|x| x)"), "[1, 2, 3]");
    assert_eq!(
        eval_str("\"abc\".Select(|c| c.ToString())"),
        r#"["a", "b", "c"]"#
    );
    assert_eq!(
        eval_str(
            "[[1, 2].Any(), [].Any(), [1, 2].Any(|x| x > 1), [1, 2].All(|x| x > 1), [].All(|x| false)]"
        ),
        "[true, false, true, false, true]"
    );
    assert_eq!(
        eval_str(
            "[[1, 2, 3].Count(), [1, 2, 3].Count(|x| x > 1), [1, 2].Contains(2), [1, 2].Contains(\"2\")]"
        ),
        "[3, 2, true, false]"
    );
    let l = r#"let l = List__new("Int32"); l.Add(5); l.Add(6);"#;
    assert_eq!(
        eval_str(&format!(
            "{l} [l.Where(|x| x > 5), l.Count(), l.Select(|x| x + 1).ToArray(), l.First()]"
        )),
        "[[6], 2, [6, 7], 5]"
    );
    assert_eq!(eval_str(&format!("{l} l.ToList().Count")), "2");
    assert_eq!(eval_str("[1, 2, 3].Skip(1).Take(1)"), "[2]");
    assert_eq!(
        eval_str("[1, 2, 3, 1].SkipWhile(|x| x < 2).TakeWhile(|x| x < 3)"),
        "[2]"
    );
    assert_eq!(eval_str("[1, \"a\", 2].OfType(\"Int32\")"), "[1, 2]");
    assert_eq!(
        eval_str("[1, \"a\"].Cast(\"Int32\")"),
        "!InvalidCastException: Unable to cast object of type 'System.String' to type 'System.Int32'."
    );
    assert_eq!(
        eval_str("().Any()"),
        "!ArgumentNullException: Value cannot be null. (Parameter 'source')"
    );
    assert_eq!(
        eval_str("[1].Where(|x| 1)"),
        "!InvalidCastException: Unable to cast object of type 'System.Int32' to type 'System.Boolean'."
    );
}

#[test]
fn linq_element_operators() {
    assert_eq!(
        eval_str(
            "[[1, 2].First(), [1, 2].First(|x| x > 1), [1, 2].Last(), [1, 2].Last(|x| x < 2)]"
        ),
        "[1, 2, 2, 1]"
    );
    assert_eq!(
        eval_str("[].First()"),
        "!InvalidOperationException: Sequence contains no elements"
    );
    assert_eq!(
        eval_str("[1].First(|x| x > 1)"),
        "!InvalidOperationException: Sequence contains no matching element"
    );
    assert_eq!(
        eval_str("[].Last()"),
        "!InvalidOperationException: Sequence contains no elements"
    );
    assert_eq!(
        eval_str(
            "[[].FirstOrDefault(), [1].FirstOrDefault(|x| x > 1), [].FirstOrDefault(7), [].LastOrDefault(), [3].LastOrDefault(|x| x > 1)]"
        ),
        "[(), (), 7, (), 3]"
    );
    assert_eq!(
        eval_str(
            "[[5].Single(), [1, 5].Single(|x| x > 1), [].SingleOrDefault(), [4, 5].SingleOrDefault(|x| x > 4)]"
        ),
        "[5, 5, (), 5]"
    );
    assert_eq!(
        eval_str("[1, 2].Single()"),
        "!InvalidOperationException: Sequence contains more than one element"
    );
    assert_eq!(
        eval_str("[1, 2].Single(|x| x > 0)"),
        "!InvalidOperationException: Sequence contains more than one matching element"
    );
    assert_eq!(
        eval_str("[1, 2].SingleOrDefault()"),
        "!InvalidOperationException: Sequence contains more than one element"
    );
    assert_eq!(
        eval_str("[].Single()"),
        "!InvalidOperationException: Sequence contains no elements"
    );
    assert_eq!(
        eval_str("[[1, 2].ElementAt(1), [1].ElementAtOrDefault(5)]"),
        "[2, ()]"
    );
    assert_eq!(
        eval_str("[1].ElementAt(1)"),
        "!ArgumentOutOfRangeException: Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')"
    );
    assert_eq!(
        eval_str("[[].DefaultIfEmpty(), [].DefaultIfEmpty(0), [1].DefaultIfEmpty()]"),
        "[[()], [0], [1]]"
    );
}

#[test]
fn linq_ordering() {
    assert_eq!(
        eval_str(r#"["b", "B", "a", "_x", "1"].OrderBy(|p| p).ToArray()"#),
        r#"["_x", "1", "a", "b", "B"]"#
    );
    assert_eq!(
        eval_str("[3, 1, 2].OrderByDescending(|x| x).ToArray()"),
        "[3, 2, 1]"
    );
    let rows = r#"let r = [["b", 1], ["a", 2], ["b", 0], ["a", 1]];"#;
    assert_eq!(
        eval_str(&format!(
            "{rows} r.OrderBy(|x| x[0]).ThenBy(|x| x[1]).Select(|x| `${{x[0]}}${{x[1]}}`)"
        )),
        r#"["a1", "a2", "b0", "b1"]"#
    );
    assert_eq!(
        eval_str(&format!(
            "{rows} r.OrderBy(|x| x[0]).ThenByDescending(|x| x[1]).Select(|x| x[1])"
        )),
        "[2, 1, 1, 0]"
    );
    // Stable: equal keys keep their order.
    assert_eq!(
        eval_str(&format!("{rows} r.OrderBy(|x| x[0]).Select(|x| x[1])")),
        "[2, 1, 1, 0]"
    );
    assert_eq!(
        eval_str("let s = 0; for x in [2, 1].OrderBy(|x| x) { s = s * 10 + x; } s"),
        "12"
    );
    assert_eq!(
        eval_str("[1, \"a\"].OrderBy(|x| x)"),
        "!InvalidOperationException: Failed to compare two elements in the array."
    );
    assert_eq!(eval_str("[3, 1, 3, 2, 1].Distinct()"), "[3, 1, 2]");
    assert_eq!(
        eval_str("[\"a\", \"A\"].Distinct(StringComparer__OrdinalIgnoreCase())"),
        r#"["a"]"#
    );
    assert_eq!(eval_str("[1, 2].Reverse()"), "[2, 1]");
    assert_eq!(
        eval_str(
            "[[1, 2].Concat([2, 3]), [1, 2].Union([2, 3]), [1, 2].Intersect([2, 3]), [1, 2].Except([2, 3])]"
        ),
        "[[1, 2, 2, 3], [1, 2, 3], [2], [1]]"
    );
    assert_eq!(
        eval_str("[[1, 2].SequenceEqual([1, 2]), [1].SequenceEqual([2])]"),
        "[true, false]"
    );
    assert_eq!(
        eval_str("[1, 2].Zip([\"a\", \"b\", \"c\"], |n, s| `${s}${n}`)"),
        r#"["a1", "b2"]"#
    );
    assert_eq!(
        eval_str("let g = [1, 2, 3, 4].GroupBy(|x| x % 2); [g.Length, g[0].Key, g[0].__items()]"),
        "[2, 1, [1, 3]]"
    );
}

#[test]
fn linq_aggregates() {
    assert_eq!(
        eval_str("[[1, 2, 3].Sum(), [1, 2.5].Sum(), [].Sum(), [[1, 2], [3]].Sum(|s| s.Length)]"),
        "[6, 3.5, 0, 3]"
    );
    assert_eq!(
        eval_str("[9223372036854775807, 1].Sum()"),
        "!OverflowException: Arithmetic operation resulted in an overflow."
    );
    assert_eq!(
        eval_str("[[3, 1, 2].Min(), [3, 1, 2].Max(), [\"b\", \"a\"].Min(), [1, 2].Max(|x| -x)]"),
        "[1, 3, \"a\", -1]"
    );
    assert_eq!(
        eval_str("[].Max()"),
        "!InvalidOperationException: Sequence contains no elements"
    );
    assert_eq!(
        eval_str("[[1, 2].Average(), [1, 2, 4].Average(|x| x * 2)]"),
        "[1.5, 4.666666666666667]"
    );
    assert_eq!(
        eval_str("[].Average()"),
        "!InvalidOperationException: Sequence contains no elements"
    );
    assert_eq!(
        eval_str(
            "[[1, 2, 3].Aggregate(|a, b| a * b), [1, 2].Aggregate(10, |a, b| a + b), [1].Aggregate(\"\", |a, b| `${a}${b}`, |a| a == \"1\")]"
        ),
        "[6, 13, true]"
    );
    assert_eq!(
        eval_str("[].Aggregate(|a, b| a)"),
        "!InvalidOperationException: Sequence contains no elements"
    );
    assert_eq!(
        eval_str(
            "[Enumerable__Range(2, 3), Enumerable__Repeat(\"x\", 2), Enumerable__Empty(\"String\")]"
        ),
        r#"[[2, 3, 4], ["x", "x"], []]"#
    );
    assert_eq!(
        eval_str("Enumerable__Repeat(0, 1000000000)"),
        "!OutOfMemoryException: Insufficient memory to continue the execution of the program."
    );
    assert_eq!(
        eval_str("Enumerable__Range(0, -1)"),
        "!ArgumentOutOfRangeException: Specified argument was out of the range of valid values. (Parameter 'count')"
    );
    let d = "let d = [\"a\", \"bb\"].ToDictionary(|s| s, |s| s == \"bb\");";
    assert_eq!(eval_str(&format!("{d} [d[\"bb\"], d.Count]")), "[true, 2]");
    assert_eq!(
        eval_str("[\"a\", \"a\"].ToDictionary(|s| s)"),
        "!ArgumentException: An item with the same key has already been added. Key: a"
    );
    assert_eq!(eval_str("[1, 1].ToHashSet().Count"), "1");
}

//! The stable diagnostic codes. A code never changes meaning once released;
//! `docs/diagnostics.md` documents each one (a test keeps the two in step).

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $text:literal, $summary:literal;)*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];

            /// The code as printed, e.g. `E0101`.
            pub const fn as_str(self) -> &'static str {
                match self { $(Code::$name => $text,)* }
            }

            /// One line saying what the code means.
            pub const fn summary(self) -> &'static str {
                match self { $(Code::$name => $summary,)* }
            }
        }
    };
}

codes! {
    // E01xx: the text is not a readable policy document.
    UnexpectedEof = "E0101", "the document ends inside an element, comment, CDATA section or expression";
    MismatchedClose = "E0102", "a closing tag does not match the element it closes";
    MalformedTag = "E0103", "malformed markup: a tag, declaration or processing instruction cannot be read";
    MalformedAttribute = "E0104", "malformed attribute: missing `=`, missing quotes or a bad name";
    DuplicateAttribute = "E0105", "the same attribute is given twice on one element";
    UnterminatedExpression = "E0106", "a policy expression `@(...)` or `@{...}` has no balanced end";
    BadReference = "E0107", "unknown entity or invalid character reference";
    ContentOutsideRoot = "E0108", "text or elements before or after the root element";
    DocumentTooLarge = "E0109", "the document is larger than the configured limit";
    NestingTooDeep = "E0110", "elements are nested deeper than the configured limit";
    ExpressionTooLarge = "E0111", "a policy expression is larger than the configured limit";
    EmptyDocument = "E0112", "the document has no root element";
    // E02xx: the document does not have the shape of a policy definition.
    BadRoot = "E0201", "the root element must be `<policies>` (or `<fragment>` for a fragment)";
    UnknownSection = "E0202", "an element directly under `<policies>` is not a section";
    DuplicateSection = "E0203", "a section appears twice in one policy document";
    UnexpectedText = "E0204", "text where only elements are allowed";
    DuplicateBase = "E0205", "`<base/>` appears twice in one section";
    BaseInFragment = "E0206", "a fragment contains `<base/>` or `include-fragment`";
    UnknownFragment = "E0207", "`include-fragment` names a fragment that does not exist";
    SectionInFragment = "E0208", "a fragment contains a section element";
    FragmentNotChecked = "N0209", "an included fragment was not supplied, so its contents were not checked";
    // E03xx: a policy is misused.
    UnknownPolicy = "E0301", "unsupported policy: no APIM policy has this name";
    PolicyNotAllowedInSection = "E0302", "the policy is not allowed in this section";
    PolicyNotAllowedInScope = "E0303", "the policy is not allowed at this scope";
    PolicyRepeated = "E0304", "the policy may appear only once in a section or document";
    UnknownAttribute = "E0305", "the element has no attribute of this name";
    MissingAttribute = "E0306", "a required attribute is missing";
    InvalidAttributeValue = "E0307", "an attribute value is not of the attribute's type or allowed values";
    ExpressionNotAllowed = "E0308", "a policy expression where the docs allow only a literal";
    UnexpectedChild = "E0309", "a child element this element does not have";
    MissingChild = "E0310", "a required child element is missing";
    TooManyChildren = "E0311", "a child element appears more often than allowed";
    AttributeCombination = "E0312", "attributes that must (or must not) be given together";
    ChildOrder = "E0313", "child elements are not in the order of the policy statement";
    TextNotAllowed = "E0314", "text inside an element that takes none, or no text where some is required";
    // E04xx: named values.
    UnknownNamedValue = "E0401", "`{{name}}` names a named value that was not supplied";
    UnresolvedNamedValues = "N0402", "named values were left in place because no value was supplied";
    // E06xx: policy expressions.
    ExpressionSyntax = "E0601", "a policy expression is not valid C#";
    ExpressionUnsupported = "E0602", "a policy expression uses a construct, type or member that Sluice does not run";
    ExpressionCompile = "E0603", "the rhai generated for a policy expression does not compile (a Sluice fault: please report it)";
    TemplateSyntax = "E0604", "a Liquid template (`set-body template=\"liquid\"`) does not parse";
    // E07xx: the gateway configuration (`sluice.toml`, conformance cases).
    ConfigSyntax = "E0701", "the configuration is not valid TOML, or a key or value is not what the format expects";
    ConfigReference = "E0702", "the configuration refers to something that does not exist (an API, product, file, environment variable)";
    ConfigDuplicate = "E0703", "two entries of the configuration have the same name or path";
    // W05xx: valid APIM, but not what `sluice run` does.
    NotExecuted = "W0501", "a valid APIM policy that `sluice run` does not execute yet";
    MixedExpression = "W0502", "text mixes literal text with `@(...)`: APIM does not evaluate it as an expression";
    BareAmpersand = "W0503", "a bare `&` in text or an attribute value, taken as a literal `&`";
    BeyondDocs = "W0504", "a policy where its docs do not list it, accepted because APIM accepts it";
}

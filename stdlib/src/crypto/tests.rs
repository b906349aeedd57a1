use crate::testing::eval_str;

/// The lowercase hex of the Blob an expression returns.
fn hex(src: &str) -> String {
    eval_str(&format!("Convert__ToHexStringLower({src})"))
}

const ABC: &str = r#"Encoding__UTF8().GetBytes("abc")"#;

#[test]
fn digests_of_abc_match_the_standards() {
    let sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_eq!(hex(&format!("SHA256__Create().ComputeHash({ABC})")), sha256);
    assert_eq!(
        hex(&format!("SHA256Managed__new().ComputeHash({ABC})")),
        sha256
    );
    assert_eq!(hex(&format!("SHA256__HashData({ABC})")), sha256);
    assert_eq!(
        hex(&format!("SHA1__Create().ComputeHash({ABC})")),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        hex(&format!("MD5__Create().ComputeHash({ABC})")),
        "900150983cd24fb0d6963f7d28e17f72"
    );
    assert_eq!(
        hex(&format!("SHA384__Create().ComputeHash({ABC})")),
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
    );
    assert_eq!(
        hex(&format!("SHA512__Create().ComputeHash({ABC})")),
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
    );
    assert_eq!(
        hex(r#"SHA256__Create().ComputeHash(Encoding__UTF8().GetBytes("xabcx"), 1, 3)"#),
        sha256
    );
    assert_eq!(
        hex(r#"SHA256__Create().ComputeHash(Encoding__UTF8().GetBytes(""))"#),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        eval_str("SHA256__Create().ComputeHash(())"),
        "!ArgumentNullException: Value cannot be null. (Parameter 'buffer')"
    );
}

#[test]
fn incremental_hashing_and_hash_property() {
    let src = r#"
        let h = SHA256__Create();
        let b = Encoding__UTF8().GetBytes("abc");
        h.TransformBlock(b, 0, 1, (), 0);
        h.TransformFinalBlock(b, 1, 2);
        Convert__ToHexStringLower(h.Hash)
    "#;
    assert_eq!(
        eval_str(src),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        eval_str(&format!(
            "let h = MD5__Create(); h.ComputeHash({ABC}); Convert__ToHexStringLower(h.Hash)"
        )),
        "900150983cd24fb0d6963f7d28e17f72"
    );
    assert_eq!(
        eval_str("SHA1__Create().Hash"),
        "!CryptographicUnexpectedOperationException: Hash must be finalized before the hash value is retrieved."
    );
    assert_eq!(eval_str("SHA384__Create().HashSize"), "384");
    assert_eq!(
        eval_str("let h = SHA256__Create(); h.Dispose(); h.ToString()"),
        "System.Security.Cryptography.SHA256+Implementation"
    );
}

#[test]
fn hmac_rfc_vectors() {
    let key20 = r#"Convert__FromHexString("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b")"#;
    let hi = r#"Encoding__UTF8().GetBytes("Hi There")"#;
    // RFC 4231 test case 1.
    assert_eq!(
        hex(&format!("HMACSHA256__new({key20}).ComputeHash({hi})")),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    assert_eq!(
        hex(&format!("HMACSHA384__new({key20}).ComputeHash({hi})")),
        "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"
    );
    assert_eq!(
        hex(&format!("HMACSHA512__new({key20}).ComputeHash({hi})")),
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"
    );
    // RFC 2202 test case 1.
    assert_eq!(
        hex(&format!("HMACSHA1__new({key20}).ComputeHash({hi})")),
        "b617318655057264e28bc0b6fb378c8ef146be00"
    );
    assert_eq!(
        hex(&format!(
            r#"HMACMD5__new(Convert__FromHexString("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b")).ComputeHash({hi})"#
        )),
        "9294727a3638bb1c13f48ef8158bfc9d"
    );
    // RFC 4231 test case 2, through the static one-shot.
    assert_eq!(
        hex(
            r#"HMACSHA256__HashData(Encoding__UTF8().GetBytes("Jefe"), Encoding__UTF8().GetBytes("what do ya want for nothing?"))"#
        ),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn hmac_key_property() {
    // `new HMACSHA256 { Key = ... }` (the Query CosmosDB sample).
    let src = r#"
        let h = HMACSHA256__new();
        h.Key = Encoding__UTF8().GetBytes("Jefe");
        Convert__ToHexStringLower(h.ComputeHash(Encoding__UTF8().GetBytes("what do ya want for nothing?")))
    "#;
    assert_eq!(
        eval_str(src),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // The parameterless constructor draws a random key of one block.
    assert_eq!(hex("HMACSHA256__new().Key").len(), 128);
    assert_eq!(hex("HMACSHA512__new().Key").len(), 256);
    assert_eq!(
        hex(r#"HMACSHA1__new(Encoding__UTF8().GetBytes("k")).Key"#),
        "6b"
    );
    // RFC 4231 test case 6: a key longer than the block is hashed first, and
    // `Key` then returns the hashed key.
    let long_key = format!(r#"Convert__FromHexString("{}")"#, "aa".repeat(131));
    let data =
        r#"Encoding__UTF8().GetBytes("Test Using Larger Than Block-Size Key - Hash Key First")"#;
    assert_eq!(
        hex(&format!("HMACSHA256__new({long_key}).ComputeHash({data})")),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
    assert_eq!(
        hex(&format!("HMACSHA256__new({long_key}).Key")),
        hex(&format!("SHA256__HashData({long_key})"))
    );
    assert_eq!(
        eval_str("HMACSHA256__new(())"),
        "!ArgumentNullException: Value cannot be null. (Parameter 'key')"
    );
    assert_eq!(
        eval_str("let h = HMACSHA256__new(); h.Key = (); 1"),
        "!ArgumentNullException: Value cannot be null. (Parameter 'value')"
    );
    assert_eq!(
        eval_str("let h = SHA256__Create(); h.Key"),
        "!NotSupportedException: Specified method is not supported."
    );
    assert_eq!(eval_str("HMACSHA512__new().HashName"), "SHA512");
}

#[test]
fn random_number_generator() {
    assert_eq!(hex("RandomNumberGenerator__GetBytes(16)").len(), 32);
    assert_ne!(
        hex("RandomNumberGenerator__GetBytes(16)"),
        hex("RandomNumberGenerator__GetBytes(16)")
    );
    assert_eq!(
        hex(r#"RNGCryptoServiceProvider__new().GetBytes(Convert__FromHexString("000000"))"#).len(),
        6
    );
    assert_eq!(
        eval_str("let n = RandomNumberGenerator__GetInt32(3, 5); n == 3 || n == 4"),
        "true"
    );
    assert!(
        eval_str("RandomNumberGenerator__GetBytes(-1)").starts_with("!ArgumentOutOfRangeException")
    );
}

#[test]
fn aes_cbc_encrypt_decrypt() {
    let zero_iv = r#"Convert__FromHexString("00000000000000000000000000000000")"#;
    let pt = r#"Convert__FromHexString("00112233445566778899aabbccddeeff")"#;
    // FIPS-197 appendix C: with a zero IV the first CBC block is the cipher
    // block; PKCS7 then adds a whole block of padding.
    for (key, first) in [
        (
            "000102030405060708090a0b0c0d0e0f",
            "69c4e0d86a7b0430d8cdb78070b4c55a",
        ),
        (
            "000102030405060708090a0b0c0d0e0f1011121314151617",
            "dda97ca4864cdfe06eaf70a0ec0d7191",
        ),
        (
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "8ea2b7ca516745bfeafc49904b496089",
        ),
    ] {
        let c = hex(&format!(
            r#"{pt}.Encrypt("Aes", Convert__FromHexString("{key}"), {zero_iv})"#
        ));
        assert_eq!(c.len(), 64, "{key}");
        assert_eq!(&c[..32], first, "{key}");
        let back = format!(
            r#"{pt}.Encrypt("Aes", Convert__FromHexString("{key}"), {zero_iv}).Decrypt("Aes", Convert__FromHexString("{key}"), {zero_iv})"#
        );
        assert_eq!(hex(&back), "00112233445566778899aabbccddeeff");
    }
    // NIST SP 800-38A F.2.1 (CBC-AES128), first block.
    let c = hex(
        r#"Convert__FromHexString("6bc1bee22e409f96e93d7e117393172a").Encrypt("Aes", Convert__FromHexString("2b7e151628aed2a6abf7158809cf4f3c"), Convert__FromHexString("000102030405060708090a0b0c0d0e0f"))"#,
    );
    assert_eq!(&c[..32], "7649abac8119b246cee98e9b12e9197d");
    // Round trip of text shorter than a block, with a Guid as the IV (the corpus pattern).
    let src = r#"
        let key = Convert__FromBase64String("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");
        let iv = Guid__NewGuid().ToByteArray();
        let enc = Encoding__UTF8().GetBytes("session-42").Encrypt("Aes", key, iv);
        Encoding__UTF8().GetString(enc.Decrypt("Aes", key, iv))
    "#;
    assert_eq!(eval_str(src), "session-42");
}

#[test]
fn aes_errors() {
    let k16 = r#"Convert__FromHexString("000102030405060708090a0b0c0d0e0f")"#;
    assert_eq!(
        eval_str(&format!(
            r#"{k16}.Encrypt("Aes", Convert__FromHexString("00"), {k16})"#
        )),
        "!CryptographicException: Specified key is not a valid size for this algorithm."
    );
    assert_eq!(
        eval_str(&format!(
            r#"{k16}.Encrypt("Aes", {k16}, Convert__FromHexString("00"))"#
        )),
        "!CryptographicException: Specified initialization vector (IV) does not match the block size for this algorithm."
    );
    assert_eq!(
        eval_str(&format!(
            r#"Convert__FromHexString("0011").Decrypt("Aes", {k16}, {k16})"#
        )),
        "!CryptographicException: The input data is not a complete block."
    );
    // A block that does not decrypt to valid padding (wrong key).
    let wrong = format!(
        r#"{k16}.Encrypt("Aes", {k16}, {k16}).Decrypt("Aes", Convert__FromHexString("ffffffffffffffffffffffffffffffff"), {k16})"#
    );
    assert_eq!(
        eval_str(&wrong),
        "!CryptographicException: Padding is invalid and cannot be removed."
    );
    assert_eq!(
        eval_str(&format!(r#"{k16}.Encrypt("DES", {k16}, {k16})"#)),
        "!NotSupportedException: The algorithm 'DES' is not supported."
    );
}

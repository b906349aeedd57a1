//! Test data (`testdata/`, made once with `gen.py` and `gen.sh`): a
//! self-signed RSA-2048 certificate as DER and PEM, the same with its key as
//! PFX in several protections, and OpenSSL signatures of `hello sluice`.

use rhai::{Blob, Dynamic, Scope};

use crate::core::RhaiResult;

const CERT_DER: &[u8] = include_bytes!("testdata/cert.der");
const CERT_PEM: &[u8] = include_bytes!("testdata/cert.pem");
/// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), MAC SHA-256: OpenSSL 3's default.
const AES_PW: &[u8] = include_bytes!("testdata/aes_pw.pfx");
const AES_EMPTY: &[u8] = include_bytes!("testdata/aes_empty.pfx");
/// Certificates under RC2-40, key under 3DES, MAC SHA-1 (`-legacy`, Windows).
const LEGACY_PW: &[u8] = include_bytes!("testdata/legacy_pw.pfx");
const LEGACY_EMPTY: &[u8] = include_bytes!("testdata/legacy_empty.pfx");
/// Everything under pbeWithSHAAnd3-KeyTripleDES-CBC.
const TDES_PW: &[u8] = include_bytes!("testdata/tdes3_pw.pfx");
/// No encryption, no MAC.
const NOPASS: &[u8] = include_bytes!("testdata/nopass.pfx");
const SIG_PKCS1_SHA256: &[u8] = include_bytes!("testdata/sig_pkcs1_sha256.bin");
const SIG_PKCS1_SHA1: &[u8] = include_bytes!("testdata/sig_pkcs1_sha1.bin");
const SIG_PSS_SHA256: &[u8] = include_bytes!("testdata/sig_pss_sha256.bin");

/// `openssl x509 -fingerprint -sha1`.
const THUMBPRINT: &str = "0F32FCC806ED086DF20041869DF69019731AD075";

fn eval(src: &str) -> RhaiResult<Dynamic> {
    let e = crate::engine(&crate::Limits::default());
    let mut scope = Scope::new();
    for (name, bytes) in [
        ("der", CERT_DER),
        ("pem", CERT_PEM),
        ("aes_pw", AES_PW),
        ("aes_empty", AES_EMPTY),
        ("legacy_pw", LEGACY_PW),
        ("legacy_empty", LEGACY_EMPTY),
        ("tdes_pw", TDES_PW),
        ("nopass", NOPASS),
        ("sig_pkcs1_sha256", SIG_PKCS1_SHA256),
        ("sig_pkcs1_sha1", SIG_PKCS1_SHA1),
        ("sig_pss_sha256", SIG_PSS_SHA256),
        ("truncated", AES_PW.get(..600).unwrap_or_default()),
    ] {
        scope.push(name, Blob::from(bytes));
    }
    e.eval_with_scope::<Dynamic>(&mut scope, src)
}

fn eval_str(src: &str) -> String {
    crate::testing::shown(eval(src))
}

const MSG: &str = r#"Encoding__UTF8().GetBytes("hello sluice")"#;

#[test]
fn der_certificate_properties() {
    let c = "let c = X509Certificate2__new(der);";
    assert_eq!(eval_str(&format!("{c} c.Thumbprint")), THUMBPRINT);
    assert_eq!(eval_str(&format!("{c} c.GetCertHashString()")), THUMBPRINT);
    assert_eq!(
        eval_str(&format!("{c} Convert__ToHexString(c.GetCertHash())")),
        THUMBPRINT
    );
    let subject = r#"CN=sluice.test, O="Contoso, Ltd", S=Washington, C=US"#;
    assert_eq!(eval_str(&format!("{c} c.Subject")), subject);
    assert_eq!(eval_str(&format!("{c} c.Issuer")), subject);
    assert_eq!(eval_str(&format!("{c} c.SubjectName.Name")), subject);
    assert_eq!(eval_str(&format!("{c} c.SerialNumber")), "0A1B2C3D4E5F");
    assert_eq!(
        eval_str(&format!("{c} Convert__ToHexString(c.GetSerialNumber())")),
        "5F4E3D2C1B0A"
    );
    assert_eq!(
        eval_str(&format!(r#"{c} c.NotBefore.ToString("o")"#)),
        "2024-01-02T03:04:05.0000000Z"
    );
    assert_eq!(
        eval_str(&format!(
            r#"{c} c.NotAfter.ToString("yyyy-MM-dd HH:mm:ss")"#
        )),
        "2034-01-02 03:04:05"
    );
    assert_eq!(eval_str(&format!("{c} c.Version")), "3");
    assert_eq!(eval_str(&format!("{c} c.HasPrivateKey")), "false");
    assert_eq!(eval_str(&format!("{c} c.GetRSAPrivateKey() == ()")), "true");
    assert_eq!(eval_str(&format!("{c} c.RawData.Length")), "800");
    assert_eq!(
        eval_str(&format!("{c} c.SignatureAlgorithm.FriendlyName")),
        "sha256RSA"
    );
    assert_eq!(
        eval_str(&format!("{c} c.PublicKey.Oid.Value")),
        "1.2.840.113549.1.1.1"
    );
    assert_eq!(eval_str(&format!("{c} c.PublicKey.Key.KeySize")), "2048");
    assert_eq!(
        eval_str(&format!(
            "{c} c.GetNameInfo(X509NameType__SimpleName(), false)"
        )),
        "sluice.test"
    );
    assert_eq!(eval_str(&format!("{c} c.Verify()")), "false");
    assert_eq!(eval_str(&format!("{c} type_of(c)")), "X509Certificate2");
    assert_eq!(
        eval_str(&format!("{c} __is(c, \"X509Certificate\")")),
        "true"
    );
    assert_eq!(
        eval_str(&format!("{c} c.ToString()")),
        format!(
            "[Subject]\n  {subject}\n\n[Issuer]\n  {subject}\n\n[Serial Number]\n  0A1B2C3D4E5F\n\n\
             [Not Before]\n  01/02/2024 03:04:05\n\n[Not After]\n  01/02/2034 03:04:05\n\n\
             [Thumbprint]\n  {THUMBPRINT}\n"
        )
    );
    assert_eq!(
        eval_str(&format!(
            "{c} Convert__ToHexString(c.GetCertHash(HashAlgorithmName__SHA256())).Length"
        )),
        "64"
    );
}

#[test]
fn pem_and_base64_text_load_too() {
    assert_eq!(
        eval_str("X509Certificate2__new(pem).Thumbprint"),
        THUMBPRINT
    );
    assert_eq!(
        eval_str("X509Certificate2__CreateFromPem(Encoding__UTF8().GetString(pem)).Thumbprint"),
        THUMBPRINT
    );
}

#[test]
fn bad_data_throws_like_dotnet() {
    assert_eq!(
        eval_str("X509Certificate2__new(Encoding__UTF8().GetBytes(\"garbage\"))"),
        "!CryptographicException: Cannot find the requested object."
    );
    assert_eq!(
        eval_str("X509Certificate2__new(())"),
        "!ArgumentNullException: Value cannot be null. (Parameter 'rawData')"
    );
    assert_eq!(
        eval_str("X509Certificate2__new(__new_bytes(0))"),
        "!ArgumentException: Array may not be empty or null. (Parameter 'rawData')"
    );
    assert_eq!(
        eval_str("X509Certificate2__new(aes_pw, \"wrong\")"),
        "!CryptographicException: The specified network password is not correct."
    );
    assert_eq!(
        eval_str("X509Certificate2__new(legacy_pw, ())"),
        "!CryptographicException: The specified network password is not correct."
    );
    // A truncated PFX.
    assert_eq!(
        eval_str("X509Certificate2__new(truncated, \"pw\")"),
        "!CryptographicException: Cannot find the requested object."
    );
}

#[test]
fn every_pfx_protection_loads_with_its_key() {
    for (blob, pw) in [
        ("aes_pw", "\"pw\""),
        ("aes_empty", "()"),
        ("aes_empty", "\"\""),
        ("legacy_pw", "\"pw\""),
        ("legacy_empty", "()"),
        ("tdes_pw", "\"pw\""),
        ("nopass", "()"),
    ] {
        let c = format!("let c = X509Certificate2__new({blob}, {pw});");
        assert_eq!(eval_str(&format!("{c} c.Thumbprint")), THUMBPRINT, "{blob}");
        assert_eq!(eval_str(&format!("{c} c.HasPrivateKey")), "true", "{blob}");
        assert_eq!(
            eval_str(&format!(
                "{c} Convert__ToBase64String(c.GetRSAPrivateKey().SignData({MSG}, HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1())) == Convert__ToBase64String(sig_pkcs1_sha256)"
            )),
            "true",
            "{blob}"
        );
    }
    // The one-argument constructor means no password.
    assert_eq!(
        eval_str("X509Certificate2__new(nopass).HasPrivateKey"),
        "true"
    );
    assert_eq!(
        eval_str(
            "X509Certificate2__new(aes_pw, \"pw\", X509KeyStorageFlags__Exportable()).HasPrivateKey"
        ),
        "true"
    );
}

#[test]
fn signatures_match_openssl() {
    let k = "let k = X509Certificate2__new(aes_pw, \"pw\").GetRSAPrivateKey();";
    let p = "let p = X509Certificate2__new(der).GetRSAPublicKey();";
    // PKCS#1 v1.5 is deterministic: the same bytes as `openssl dgst -sign`.
    assert_eq!(
        eval_str(&format!(
            "{k} k.SignData({MSG}, HashAlgorithmName__SHA1(), RSASignaturePadding__Pkcs1()) == sig_pkcs1_sha1"
        )),
        "true"
    );
    assert_eq!(
        eval_str(&format!(
            "{k} k.SignHash(SHA256__HashData({MSG}), HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1()) == sig_pkcs1_sha256"
        )),
        "true"
    );
    assert_eq!(
        eval_str(&format!(
            "{p} p.VerifyData({MSG}, sig_pkcs1_sha256, HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1())"
        )),
        "true"
    );
    assert_eq!(
        eval_str(&format!(
            "{p} let s = sig_pkcs1_sha256; s[10] = s[10] ^ 1; p.VerifyData({MSG}, s, HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1())"
        )),
        "false"
    );
    assert_eq!(
        eval_str(&format!(
            "{p} p.VerifyData(Encoding__UTF8().GetBytes(\"hello sluicE\"), sig_pkcs1_sha256, HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1())"
        )),
        "false"
    );
    assert_eq!(
        eval_str(&format!(
            "{p} p.VerifyHash(SHA256__HashData({MSG}), sig_pkcs1_sha256, HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1())"
        )),
        "true"
    );
    // PSS (salt as long as the hash): OpenSSL's signature verifies, ours round-trips.
    assert_eq!(
        eval_str(&format!(
            "{p} p.VerifyData({MSG}, sig_pss_sha256, HashAlgorithmName__SHA256(), RSASignaturePadding__Pss())"
        )),
        "true"
    );
    assert_eq!(
        eval_str(&format!(
            "{k} {p} let s = k.SignData({MSG}, HashAlgorithmName__SHA512(), RSASignaturePadding__Pss()); \
             [s.Length, p.VerifyData({MSG}, s, HashAlgorithmName__SHA512(), RSASignaturePadding__Pss()), \
              p.VerifyData({MSG}, s, HashAlgorithmName__SHA512(), RSASignaturePadding__Pkcs1())]"
        )),
        "[256, true, false]"
    );
    assert_eq!(
        eval_str(&format!(
            "{k} k.SignData(Encoding__UTF8().GetBytes(\"xhello sluicex\"), 1, 12, HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1()) == sig_pkcs1_sha256"
        )),
        "true"
    );
}

#[test]
fn signing_errors() {
    let k = "let k = X509Certificate2__new(aes_pw, \"pw\").GetRSAPrivateKey();";
    assert_eq!(
        eval_str(&format!(
            "{k} k.SignData((), HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1())"
        )),
        "!ArgumentNullException: Value cannot be null. (Parameter 'data')"
    );
    assert_eq!(
        eval_str(&format!(
            "{k} k.SignData({MSG}, HashAlgorithmName__new(\"SHA3\"), RSASignaturePadding__Pkcs1())"
        )),
        "!CryptographicException: 'SHA3' is not a known hash algorithm."
    );
    assert_eq!(
        eval_str(&format!(
            "{k} k.SignData({MSG}, HashAlgorithmName__new(()), RSASignaturePadding__Pkcs1())"
        )),
        "!ArgumentException: The hash algorithm name cannot be null or empty. (Parameter 'hashAlgorithm')"
    );
    assert_eq!(
        eval_str(&format!(
            "{k} k.SignData({MSG}, HashAlgorithmName__SHA256(), ())"
        )),
        "!ArgumentNullException: Value cannot be null. (Parameter 'padding')"
    );
    assert_eq!(
        eval_str(
            "X509Certificate2__new(der).GetRSAPublicKey().SignData(__new_bytes(1), HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1())"
        ),
        "!CryptographicException: Key does not exist."
    );
    assert_eq!(
        eval_str(&format!(
            "{k} k.Dispose(); k.SignData({MSG}, HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1())"
        )),
        "!ObjectDisposedException: Cannot access a disposed object.\nObject name: 'RSA'."
    );
}

#[test]
fn rsa_casts_and_names() {
    let k = "let k = X509Certificate2__new(aes_pw, \"pw\").GetRSAPrivateKey();";
    assert_eq!(
        eval_str(&format!("{k} type_of(__as(k, \"RSACng\"))")),
        "RSA"
    );
    assert_eq!(eval_str(&format!("{k} type_of(__cast(k, \"RSA\"))")), "RSA");
    assert_eq!(
        eval_str(&format!("{k} __is(k, \"AsymmetricAlgorithm\")")),
        "true"
    );
    assert_eq!(eval_str(&format!("{k} __as(k, \"ECDsa\") == ()")), "true");
    assert_eq!(
        eval_str(&format!("{k} __cast(k, \"ECDsa\")")),
        "!InvalidCastException: Unable to cast object of type 'System.Security.Cryptography.RSACng' to type 'System.ECDsa'."
    );
    assert_eq!(eval_str(&format!("{k} k.KeySize")), "2048");
    assert_eq!(
        eval_str(&format!("{k} k.ToString()")),
        "System.Security.Cryptography.RSACng"
    );
    assert_eq!(eval_str("HashAlgorithmName__SHA256().Name"), "SHA256");
    assert_eq!(
        eval_str("HashAlgorithmName__SHA256() == HashAlgorithmName__new(\"SHA256\")"),
        "true"
    );
    assert_eq!(eval_str("RSASignaturePadding__Pss().ToString()"), "Pss");
    assert_eq!(
        eval_str("RSAEncryptionPadding__OaepSHA256().ToString()"),
        "OaepSHA256"
    );
}

#[test]
fn rsa_encryption_round_trips() {
    let k = "let k = X509Certificate2__new(aes_pw, \"pw\").GetRSAPrivateKey();";
    let p = "let p = X509Certificate2__new(der).GetRSAPublicKey();";
    for pad in ["Pkcs1", "OaepSHA1", "OaepSHA256"] {
        assert_eq!(
            eval_str(&format!(
                "{k} {p} let c = p.Encrypt({MSG}, RSAEncryptionPadding__{pad}()); \
                 Encoding__UTF8().GetString(k.Decrypt(c, RSAEncryptionPadding__{pad}()))"
            )),
            "hello sluice"
        );
    }
}

#[test]
fn rsa_key_import_and_export() {
    let k = "let k = X509Certificate2__new(aes_pw, \"pw\").GetRSAPrivateKey();";
    // PEM round trip into a fresh RSA.Create(), then the same signature.
    assert_eq!(
        eval_str(&format!(
            "{k} let r = RSA__Create(); r.ImportFromPem(k.ExportPkcs8PrivateKeyPem()); \
             r.SignData({MSG}, HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1()) == sig_pkcs1_sha256"
        )),
        "true"
    );
    assert_eq!(
        eval_str(&format!(
            "{k} let r = RSA__Create(); r.FromXmlString(k.ToXmlString(true)); \
             r.SignData({MSG}, HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1()) == sig_pkcs1_sha256"
        )),
        "true"
    );
    assert_eq!(
        eval_str(&format!(
            "{k} let r = RSA__Create(); let res = r.ImportSubjectPublicKeyInfo__out(k.ExportSubjectPublicKeyInfo()); \
             [res[1], r.VerifyData({MSG}, sig_pkcs1_sha256, HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1())]"
        )),
        "[294, true]"
    );
    assert!(
        eval_str(&format!("{k} k.ToXmlString(false)"))
            .ends_with("<Exponent>AQAB</Exponent></RSAKeyValue>")
    );
    assert!(
        eval_str(&format!("{k} k.ExportSubjectPublicKeyInfoPem()")).starts_with(
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"
        )
    );
    assert_eq!(
        eval_str("RSA__Create().ImportFromPem(\"nothing\")"),
        "!ArgumentException: No supported key formats were found. Check that the input represents the contents of a PEM-encoded key file, not the path to such a file. (Parameter 'input')"
    );
    assert_eq!(eval_str("RSA__Create(512).KeySize"), "512");
}

/// The corpus policy "Get OAuth2 access token from AAD using client id and
/// certificate using key vault manage identity": a self-signed JWT client
/// assertion, signed with the PFX's key and checked with the certificate.
#[test]
fn client_assertion_jwt_from_a_key_vault_pfx() {
    let script = r#"
        let b64 = Convert__ToBase64String(legacy_empty);
        let certificate = X509Certificate2__new(Convert__FromBase64String(b64), ());
        let rsa = __as(certificate.GetRSAPrivateKey(), "RSACng");
        let enc = |b| Convert__ToBase64String(b).Split('=')[0].Replace('+', '-').Replace('/', '_');
        let header = Dictionary__new("String", "String");
        header.Add("alg", "RS256");
        header.Add("kid", enc.call(certificate.GetCertHash()));
        let claims = Dictionary__new("String", "String");
        claims.Add("aud", "https://login.windows.net/t/oauth2/token");
        claims.Add("sub", "client");
        let token = enc.call(Encoding__UTF8().GetBytes(JObject__FromObject(header).ToString()))
            + "." + enc.call(Encoding__UTF8().GetBytes(JObject__FromObject(claims).ToString()));
        let sig = rsa.SignData(Encoding__UTF8().GetBytes(token), HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1());
        let jwt = token + "." + enc.call(sig);
        let pubkey = X509Certificate2__new(der).GetRSAPublicKey();
        [jwt.Split('.').Length, header["kid"],
         pubkey.VerifyData(Encoding__UTF8().GetBytes(token), sig, HashAlgorithmName__SHA256(), RSASignaturePadding__Pkcs1())]
    "#;
    assert_eq!(
        eval_str(script),
        "[3, \"DzL8yAbtCG3yAEGGnfaQGXMa0HU\", true]"
    );
}

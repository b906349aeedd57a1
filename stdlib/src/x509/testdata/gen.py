import datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
    x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Washington"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso, Ltd"),
    x509.NameAttribute(NameOID.COMMON_NAME, "sluice.test"),
])
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
    .public_key(key.public_key()).serial_number(0x0a1b2c3d4e5f)
    .not_valid_before(datetime.datetime(2024,1,2,3,4,5))
    .not_valid_after(datetime.datetime(2034,1,2,3,4,5))
    .sign(key, hashes.SHA256()))
open("cert.der","wb").write(cert.public_bytes(serialization.Encoding.DER))
open("cert.pem","wb").write(cert.public_bytes(serialization.Encoding.PEM))
open("key.pem","wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

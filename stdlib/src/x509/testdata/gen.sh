#!/bin/sh
# How the x509 test data was made (once; the files are committed).
# gen.py writes cert.der, cert.pem and key.pem (key.pem is not kept).
set -e
python3 gen.py
openssl pkcs12 -export -in cert.pem -inkey key.pem -out aes_pw.pfx -passout pass:pw
openssl pkcs12 -export -in cert.pem -inkey key.pem -out aes_empty.pfx -passout pass:
openssl pkcs12 -export -in cert.pem -inkey key.pem -out legacy_pw.pfx -passout pass:pw -legacy
openssl pkcs12 -export -in cert.pem -inkey key.pem -out legacy_empty.pfx -passout pass: -legacy
openssl pkcs12 -export -in cert.pem -inkey key.pem -out tdes3_pw.pfx -passout pass:pw -legacy -certpbe PBE-SHA1-3DES
openssl pkcs12 -export -in cert.pem -inkey key.pem -out nopass.pfx -keypbe NONE -certpbe NONE -nomac -passout pass:
printf 'hello sluice' > msg.txt
openssl dgst -sha256 -sign key.pem -out sig_pkcs1_sha256.bin msg.txt
openssl dgst -sha1 -sign key.pem -out sig_pkcs1_sha1.bin msg.txt
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sign key.pem -out sig_pss_sha256.bin msg.txt
openssl x509 -in cert.pem -noout -fingerprint -sha1   # 0F:32:FC:C8:06:ED:08:6D:F2:00:41:86:9D:F6:90:19:73:1A:D0:75
rm key.pem msg.txt

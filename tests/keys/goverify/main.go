// Command goverify checks libsbprov's signatures and CSRs with Go's crypto,
// verifying the way the Mender server's deviceauth does (VerifyAuthReqSign,
// reference/mender.md section 1.4): the public key must be a PEM block of
// type exactly "PUBLIC KEY" (SPKI); RSA is PKCS#1 v1.5 over SHA-256, ECDSA
// is SHA-256 with an ASN.1 DER {r, s} signature, Ed25519 is pure over the
// raw message; the signature is standard padded Base64.
//
// Usage:
//
//	goverify sig PUBLIC_PEM MESSAGE_FILE SIGNATURE_FILE
//	    exit 0 if valid, 1 if not, 2 on a usage or input error
//	goverify csr CSR_PEM PUBLIC_PEM COMMON_NAME
//	    parse the CSR, check its self-signature, its public key and CN;
//	    print "ok <algorithm> dns=... ip=... uri=... email=..."
package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
)

func parsePublicKey(data []byte) (interface{}, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("cannot decode public key: no PEM block of type PUBLIC KEY")
	}
	return x509.ParsePKIXPublicKey(block.Bytes)
}

type ecdsaSignature struct {
	R, S *big.Int
}

func verify(pub interface{}, message []byte, signatureB64 string) error {
	signature, err := base64.StdEncoding.DecodeString(signatureB64)
	if err != nil {
		return fmt.Errorf("signature is not standard Base64: %w", err)
	}
	switch key := pub.(type) {
	case *rsa.PublicKey:
		digest := sha256.Sum256(message)
		return rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], signature)
	case *ecdsa.PublicKey:
		digest := sha256.Sum256(message)
		var rs ecdsaSignature
		if _, err := asn1.Unmarshal(signature, &rs); err != nil {
			return fmt.Errorf("ECDSA signature is not DER: %w", err)
		}
		if rs.R == nil || rs.S == nil || !ecdsa.Verify(key, digest[:], rs.R, rs.S) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	case ed25519.PublicKey:
		if !ed25519.Verify(key, message, signature) {
			return errors.New("Ed25519 signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T", pub)
}

func checkCSR(csrPEM, publicPEM []byte, commonName string) (string, error) {
	block, _ := pem.Decode(csrPEM)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return "", errors.New("no PEM block of type CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return "", err
	}
	if err := csr.CheckSignature(); err != nil {
		return "", fmt.Errorf("CSR signature: %w", err)
	}
	pub, err := parsePublicKey(publicPEM)
	if err != nil {
		return "", err
	}
	want, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	got, err := x509.MarshalPKIXPublicKey(csr.PublicKey)
	if err != nil {
		return "", err
	}
	if !bytes.Equal(want, got) {
		return "", errors.New("CSR public key differs from the key's")
	}
	if csr.Subject.CommonName != commonName {
		return "", fmt.Errorf("CSR common name %q, want %q", csr.Subject.CommonName, commonName)
	}
	var ips, uris []string
	for _, ip := range csr.IPAddresses {
		ips = append(ips, ip.String())
	}
	for _, u := range csr.URIs {
		uris = append(uris, u.String())
	}
	return fmt.Sprintf("ok %s dns=%s ip=%s uri=%s email=%s", csr.SignatureAlgorithm,
		strings.Join(csr.DNSNames, ","), strings.Join(ips, ","), strings.Join(uris, ","),
		strings.Join(csr.EmailAddresses, ",")), nil
}

func readFiles(paths ...string) ([][]byte, error) {
	var out [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}

func main() {
	if len(os.Args) == 5 && os.Args[1] == "sig" {
		files, err := readFiles(os.Args[2], os.Args[3], os.Args[4])
		if err != nil {
			fmt.Fprintln(os.Stderr, "goverify:", err)
			os.Exit(2)
		}
		pub, err := parsePublicKey(files[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, "goverify:", err)
			os.Exit(2)
		}
		if err := verify(pub, files[1], string(files[2])); err != nil {
			fmt.Fprintln(os.Stderr, "goverify: rejected:", err)
			os.Exit(1)
		}
		fmt.Printf("ok %T\n", pub)
		return
	}
	if len(os.Args) == 5 && os.Args[1] == "csr" {
		files, err := readFiles(os.Args[2], os.Args[3])
		if err != nil {
			fmt.Fprintln(os.Stderr, "goverify:", err)
			os.Exit(2)
		}
		summary, err := checkCSR(files[0], files[1], os.Args[4])
		if err != nil {
			fmt.Fprintln(os.Stderr, "goverify: rejected:", err)
			os.Exit(1)
		}
		fmt.Println(summary)
		return
	}
	fmt.Fprintln(os.Stderr, "usage: goverify sig PUBLIC_PEM MESSAGE SIGNATURE | goverify csr CSR_PEM PUBLIC_PEM CN")
	os.Exit(2)
}

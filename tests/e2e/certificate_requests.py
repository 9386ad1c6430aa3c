"""PKCS#10 certificate requests made with openssl, as upstream's "create a user" task makes them."""
import subprocess


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def request_pem(tmp_path, name, subject, ec=False):
    """A new key and a PEM certificate request for `subject`; returns (key path, request bytes)."""
    key = tmp_path / f"{name}.key"
    if ec:
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key), cwd=tmp_path)
    else:
        openssl("genrsa", "-out", str(key), "2048", cwd=tmp_path)
    openssl("req", "-new", "-key", str(key), "-out", f"{name}.csr", "-subj", subject, cwd=tmp_path)
    return key, (tmp_path / f"{name}.csr").read_bytes()

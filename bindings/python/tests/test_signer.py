"""SasSigner: keyed once, same tokens as sas_token(), same lifecycle as Deriver."""
import pickle

import pytest

import sbprov
from sbprov import azure

S1_KEY = "18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA=="
S1_URI = "MyExampleHub.azure-devices.net/devices/my-symkey-device"
S1_TOKEN = ("SharedAccessSignature sr=MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device"
            "&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D&se=1663119026")


def test_published_token():
    with azure.SasSigner(S1_KEY) as signer:
        assert signer.token(S1_URI, 1663119026) == S1_TOKEN


def test_same_tokens_as_one_shot():
    with azure.SasSigner(S1_KEY.encode()) as signer:
        for i in range(50):
            uri = f"hub.azure-devices.net/devices/gw-{i}"
            policy = "iothubowner" if i % 2 else None
            assert signer.token(uri, 1800000000 + i, policy) == azure.sas_token(uri, S1_KEY, 1800000000 + i, policy)


def test_errors_leave_signer_usable():
    signer = azure.SasSigner(S1_KEY)
    with pytest.raises(sbprov.ExpiryError, match="not after now"):
        signer.token(S1_URI, 1663119026, now=1663119027)
    with pytest.raises(sbprov.IdentifierError, match="scheme"):
        signer.token("https://h/devices/d", 1800000000)
    with pytest.raises(TypeError):
        signer.token(S1_URI, 1.5)
    assert signer.token(S1_URI, 1663119026) == S1_TOKEN
    signer.close()
    signer.close()
    assert signer.closed
    with pytest.raises(sbprov.InvalidInputError, match="used after close"):
        signer.token(S1_URI, 1663119026)


@pytest.mark.parametrize("key,exc", [("AAAA", sbprov.KeySizeError), ("A", sbprov.Base64Error)])
def test_bad_keys(key, exc):
    with pytest.raises(exc):
        azure.SasSigner(key)


def test_not_picklable():
    with azure.SasSigner(S1_KEY) as signer, pytest.raises(TypeError):
        pickle.dumps(signer)

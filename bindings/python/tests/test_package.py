"""The installed package: location, library loading, version, API surface, docs."""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import sbprov
from sbprov import azure, identity, keys, mender
from sbprov import _sbprov_swig as raw

SOURCE_PACKAGE = (Path(__file__).resolve().parent.parent / "sbprov").resolve()


def test_imported_from_an_installation_not_the_source_tree():
    pkg = Path(sbprov.__file__).resolve().parent
    assert (pkg / "_sbprov_swig.py").is_file(), "generated proxy missing from the installed package"
    if os.environ.get("SBPROV_TEST_INSTALLED", "1") == "1":
        assert "site-packages" in pkg.parts or "dist-packages" in pkg.parts, pkg


def test_library_found_without_ld_library_path():
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "PYTHONPATH")}
    out = subprocess.run([sys.executable, "-c", "import sbprov; print(sbprov.__version__)"],
                         env=env, cwd="/", check=True, capture_output=True, text=True).stdout.strip()
    assert out == sbprov.__version__


def test_version():
    assert isinstance(sbprov.__version__, str)
    assert sbprov.__version__ == sbprov.version() == raw.sbprov_version()
    major, minor, patch = (int(x) for x in sbprov.__version__.split("."))
    assert sbprov.version_number() == (major << 16) | (minor << 8) | patch
    # built against the headers of the library it runs with
    assert sbprov.header_version() == sbprov.__version__


def test_public_api_has_docstrings():
    missing = []
    for module in (sbprov, azure, identity, keys, mender):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                if not (obj.__doc__ or "").strip():
                    missing.append(f"{module.__name__}.{name}")
                if inspect.isclass(obj):
                    for attr, member in vars(obj).items():
                        if inspect.isfunction(member) and not attr.startswith("_") \
                                and not (member.__doc__ or "").strip():
                            missing.append(f"{module.__name__}.{name}.{attr}")
    assert not missing, missing
    assert sbprov.__doc__ and azure.__doc__ and identity.__doc__ and keys.__doc__ and mender.__doc__


def test_contract_signatures():
    sig = inspect.signature(azure.sas_token)
    assert list(sig.parameters) == ["resource_uri", "key", "expiry", "policy", "now"]
    assert sig.parameters["policy"].default is None
    assert sig.parameters["now"].kind is inspect.Parameter.KEYWORD_ONLY
    assert sig.parameters["now"].default is None
    assert inspect.signature(azure.generate_key).parameters["nbytes"].default == 32
    assert inspect.signature(azure.generate_keys).parameters["nbytes"].default == 32
    assert list(inspect.signature(azure.derive_device_key).parameters) == ["group_key", "registration_id"]
    assert list(inspect.signature(azure.derive_device_keys).parameters) == ["group_key", "registration_ids"]
    assert issubclass(sbprov.Error, Exception)


def test_generate_keys():
    import base64
    for nbytes in (16, 32, 33, 64):
        key = azure.generate_key(nbytes)
        assert len(base64.b64decode(key, validate=True)) == nbytes
        primary, secondary = azure.generate_keys(nbytes)
        assert primary != secondary
        assert len(base64.b64decode(primary, validate=True)) == nbytes
        assert len(base64.b64decode(secondary, validate=True)) == nbytes
        # generated keys are usable keys
        assert len(azure.derive_device_key(primary, "dev")) == 44
    assert len(base64.b64decode(azure.generate_key())) == 32
    assert len(base64.b64decode(azure.generate_keys()[0])) == 32
    assert len({azure.generate_key() for _ in range(100)}) == 100


def test_constants():
    assert azure.KEY_MIN_BYTES == 16 and azure.KEY_MAX_BYTES == 64 and azure.KEY_DEFAULT_BYTES == 32
    assert azure.SAS_EXPIRY_MIN == 1577836800
    assert azure.ID_MAX_LEN == 128 and azure.RESOURCE_URI_MAX_LEN == 2048


def test_identity_and_keys_contract_signatures():
    from sbprov.identity import Identity
    sig = inspect.signature(Identity.from_system)
    assert list(sig.parameters) == ["sources", "skip_local_mac", "physical", "virtual", "sysfs_root", "etc_root"]
    assert sig.parameters["sources"].default == ("mac",)
    assert all(sig.parameters[p].kind is inspect.Parameter.KEYWORD_ONLY for p in list(sig.parameters)[1:])
    sig = inspect.signature(Identity.from_script)
    assert list(sig.parameters) == ["path", "timeout_ms", "max_output"]
    assert list(inspect.signature(Identity.from_text).parameters) == ["s"]
    assert list(inspect.signature(Identity.add).parameters) == ["self", "name", "value"]
    assert list(inspect.signature(Identity.registration_id).parameters) == ["self", "template"]
    sig = inspect.signature(keys.generate)
    assert list(sig.parameters) == ["kind", "path", "passphrase", "overwrite"]
    assert sig.parameters["kind"].default == "ed25519" and sig.parameters["path"].default is None
    assert sig.parameters["passphrase"].kind is inspect.Parameter.KEYWORD_ONLY
    sig = inspect.signature(keys.load)
    assert list(sig.parameters) == ["uri", "passphrase", "providers", "openssl_conf", "propquery"]
    assert list(inspect.signature(keys.from_public_pem).parameters) == ["pem"]
    assert list(inspect.signature(keys.Key.csr).parameters) == ["self", "common_name", "sans"]
    assert list(inspect.signature(keys.Key.save).parameters) == ["self", "path", "passphrase", "overwrite"]
    for prop in ("type", "bits", "has_private", "public_pem", "fingerprint"):
        assert isinstance(getattr(keys.Key, prop), property)
    assert sbprov.identity is identity and sbprov.keys is keys


def test_option_structs_are_not_exposed():
    # Their const char * members would dangle or leak through SWIG setters.
    for name in ("sbprov_identity_probe_options", "sbprov_identity_script_options",
                 "sbprov_key_generate_options", "sbprov_key_load_options",
                 "sbprov_identity_probe", "sbprov_identity_from_script", "sbprov_key_generate",
                 "sbprov_key_load", "sbprov_http_options", "sbprov_http_options_init",
                 "sbprov_mender_options", "sbprov_mender_options_init", "sbprov_mender_new",
                 "sbprov_mender_wait_options", "sbprov_mender_authenticate_until_accepted",
                 "sbprov_mender_mgmt_new", "sbprov_http_response_info",
                 "sbprov_azure_dps_options", "sbprov_azure_dps_options_init", "sbprov_azure_dps_new",
                 "sbprov_azure_hub_options", "sbprov_azure_hub_options_init", "sbprov_azure_hub_new",
                 "sbprov_azure_registry_new", "sbprov_azure_message", "sbprov_azure_message_init",
                 "sbprov_azure_property", "sbprov_azure_hub_send"):
        assert not hasattr(raw, name), name


def test_mender_contract_signatures():
    sig = inspect.signature(mender.Device)
    assert list(sig.parameters)[:3] == ["server", "identity", "key"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(sig.parameters.values())[3:])
    assert sig.parameters["timeout"].default == 30.0 and sig.parameters["connect_timeout"].default == 10.0
    assert sig.parameters["allow_http"].default is False
    for name in ("tenant_token", "tier", "ca", "client_cert", "client_key", "proxy", "token_store", "token_entry"):
        assert sig.parameters[name].default is None, name
    sig = inspect.signature(mender.Device.authenticate_until_accepted)
    assert list(sig.parameters) == ["self", "timeout", "first_interval", "max_interval", "tries_per_interval"]
    assert (sig.parameters["first_interval"].default, sig.parameters["max_interval"].default,
            sig.parameters["tries_per_interval"].default) == (60.0, 300.0, 3)
    assert list(inspect.signature(mender.Device.update_inventory).parameters) == ["self", "attrs", "replace"]
    assert list(inspect.signature(mender.Device.check_update).parameters) == ["self", "artifact_name",
                                                                              "device_type"]
    sig = inspect.signature(mender.Management)
    assert list(sig.parameters)[0] == "server"
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(sig.parameters.values())[1:])
    assert list(inspect.signature(mender.Management.preauthorize).parameters) == ["self", "identity", "key",
                                                                                  "force"]
    assert list(inspect.signature(mender.Management.devices).parameters) == ["self", "status", "page",
                                                                             "per_page"]
    for cls in (mender.Device, mender.Management):
        assert isinstance(cls.last_response, property)
    for prop in ("token", "device_id", "token_expiry"):
        assert isinstance(getattr(mender.Device, prop), property)
    assert sbprov.mender is mender

import pytest

from automm import plugins
from automm.errors import PluginError, UnknownComponentError
from automm.registry import Registry


def test_register_get_list():
    reg = Registry("widget", "automm_register_widgets")
    reg.register("b-one", 1)
    reg.register("a-two", 2)
    assert reg.get("b-one") == 1
    assert reg.list() == ["a-two", "b-one"]
    assert reg.list("a-*") == ["a-two"]
    assert reg.entry("a-two").plugin == "<runtime>"


def test_unknown_name_lists_known():
    reg = Registry("strategy", "x")
    reg.register("stgs", object())
    reg.register("darts", object())
    with pytest.raises(UnknownComponentError) as info:
        reg.get("stsg")
    assert str(info.value) == "unknown strategy 'stsg' (did you mean 'stgs'?); known: darts, stgs"
    with pytest.raises(UnknownComponentError) as info:
        reg.get("bmnas")
    assert str(info.value) == "unknown strategy 'bmnas'; known: darts, stgs"  # nothing close: no guess


def test_names_are_matched_case_insensitively():
    reg = Registry("strategy", "x")
    reg.register("stgs", 1)
    assert reg.get("STGS") == reg.get("Stgs") == 1 and "sTgS" in reg and 3 not in reg
    reg.unregister("STGS")
    assert "stgs" not in reg


@pytest.mark.parametrize("name", ["", "Has Space", "UPPER", "-lead", 3, "stgs\n", "a\nb"])
def test_invalid_names_rejected(name):
    with pytest.raises(PluginError):
        Registry("widget", "x").register(name, 1)


def test_duplicate_rejected():
    reg = Registry("widget", "x")
    reg.register("w", 1, plugin="first")
    with pytest.raises(PluginError, match="already registered by plugin 'first'"):
        reg.register("w", 2)


def test_first_party_components_registered():
    assert {"zero", "sum", "attention", "linear-glu", "concat-fc"} <= set(plugins.fusion_ops.list())
    entry = plugins.spaces.entry("bimodal-deepfake")
    assert entry.plugin == "deepfake" and entry.distribution == "automm"


def test_automm_register_fixture(automm_register):
    automm_register("fusion_ops", "tmp-op", lambda C, L: None)
    assert "tmp-op" in plugins.fusion_ops.list()

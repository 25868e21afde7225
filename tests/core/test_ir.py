from automm import plugins
from automm.ir import CELL_INPUT, OP_FAMILY, STEP_INPUT


def test_cell_space_structure(space):
    assert space.taps == [f"image/{i}" for i in range(1, 5)] + [f"audio/{i}" for i in range(1, 5)]
    assert space.cells == ["cell/1", "cell/2"]
    assert space.choice("cell/1/in/1").candidates == tuple(space.taps)
    assert space.choice("cell/2/in/2").candidates == (*space.taps, "cell/1")
    assert space.choice("cell/1/step/2/in/1").candidates == ("cell/1/in/1", "cell/1/in/2", "cell/1/step/1")
    assert space.choice("cell/1/step/1/op").candidates == ("zero", "sum", "attention", "linear-glu",
                                                          "concat-fc")
    fams = space.families()
    assert [len(fams[f]) for f in (CELL_INPUT, STEP_INPUT, OP_FAMILY)] == [4, 8, 4]
    # every candidate is an edge into the node that consumes it
    for c in space.choices.values():
        if c.kind == "input":
            assert all(space.graph.has_edge(u, c.node) for u in c.candidates)


def test_config_sizes_are_free():
    definition = plugins.spaces.get("bimodal-deepfake")
    cfg = definition.config_type(cells=3, steps=3, image_taps=2, audio_taps=1, ops=("sum", "zero"))
    space = definition.build(cfg)
    assert len(space.cells) == 3 and len(space.steps("cell/3")) == 3
    assert space.taps == ["image/1", "image/2", "audio/1"]
    assert definition.config_type.from_dict(cfg.to_dict()) == cfg

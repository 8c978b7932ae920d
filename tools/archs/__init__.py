"""Architecture registry: every network the tools train, export and check, by name.

A checkpoint's `config` dict names its architecture (`arch`: 'c' or 't'; absent = 'c', the
checkpoints made before QuantSR-T existed) and holds the constructor's arguments, so
`build(config)` remakes the module without the caller knowing which architecture it is.
"""

from quantsr_c import QuantSRC

from archs.quantsr_t import QuantSRT

ARCHS = {'c': QuantSRC, 't': QuantSRT}


def arch_of(config):
    return config.get('arch', 'c')


def build(config):
    arch = arch_of(config)
    if arch == 'c':
        return QuantSRC(scale=config['scale'], channels=config['channels'],
                        blocks=config['blocks'], bits_w=config['bits_w'], bits_a=config['bits_a'])
    if arch == 't':
        return QuantSRT(scale=config['scale'], embed_dim=config['embed_dim'],
                        depths=tuple(config['depths']), heads=config['heads'],
                        window=config['window'], mlp_ratio=config.get('mlp_ratio', 2.0),
                        bits_w=config['bits_w'], bits_a=config['bits_a'])
    raise ValueError(f'unknown architecture {arch!r} (known: {", ".join(sorted(ARCHS))})')


def config_of(model):
    """The `config` dict that build() turns back into `model`'s shape."""
    if isinstance(model, QuantSRT):
        return model.config()
    return {'arch': 'c', 'scale': model.scale, 'channels': model.channels,
            'blocks': model.blocks, 'bits_w': model.bits_w, 'bits_a': model.bits_a}

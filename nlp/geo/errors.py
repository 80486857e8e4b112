"""The one error of the geo package: a bad gazetteer input or config, named by file and line."""


class GazetteerError(ValueError):
    """Gazetteer data that cannot be used, e.g. 'config/regions/crimea/names.csv:12: unknown place 9999'."""

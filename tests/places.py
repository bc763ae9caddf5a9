"""Where an element is in an AppTest page: its place (path of indices), as the browser knows it."""


def place_of(at, match, root=None) -> tuple:
    """The path of indices (under ``root``, the main area by default) of the first element or block,
    depth first, for which ``match(node)`` holds."""

    def walk(node, path):
        if match(node):
            return path
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for index, child in children.items():
                found = walk(child, (*path, index))
                if found is not None:
                    return found
        return None

    found = walk(at.main if root is None else root, ())
    assert found is not None, "no such element on the page"
    return found


def keyed(key: str):
    """A match for the element or container made with ``key``."""
    return lambda node: getattr(node, "key", None) == key


def component(name: str):
    """A match for an ``st.components.v2`` component by its registered name."""
    return lambda node: getattr(getattr(node, "proto", None), "component_name", None) == name

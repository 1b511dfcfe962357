"""Read schema.org events out of a page with extruct, the same way for all three syntaxes.

JSON-LD and microdata (``uniform=True``) come out as nested dicts; RDFa comes out as a flat graph
of nodes (full IRIs as keys, ``[{"@value": …}]`` or ``[{"@id": …}]`` values, nested items as
separate nodes, and multiple values in no particular order). ``events()`` turns each into the
same shape:

    {"type", "name", "startDate", "endDate", "keywords", "song",
     "performer": [{"name", "sameAs"}], "offers": [{"name", "price", "priceCurrency", "url"}],
     "subEvent": [{"name", "startDate", "endDate"}]}
"""

import extruct

SYNTAXES = ["json-ld", "microdata", "rdfa"]
EVENT_TYPES = {"Event", "DanceEvent"}
SCHEMA_PREFIXES = ("https://schema.org/", "http://schema.org/")


def extract(html, url):
    return extruct.extract(html, base_url=url, syntaxes=SYNTAXES, uniform=True)


def _short(iri):
    for prefix in SCHEMA_PREFIXES:
        if iri.startswith(prefix):
            return iri[len(prefix) :]
    return iri


def _types(item):
    value = item.get("@type", [])
    return {_short(t) for t in (value if isinstance(value, list) else [value])}


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _rdfa_tree(nodes):
    """RDFa graph nodes → nested dicts like JSON-LD's, for the nodes no other node points at."""
    by_id = {node["@id"]: node for node in nodes if "@id" in node}
    referenced = {
        value["@id"]
        for node in nodes
        for key, values in node.items()
        if not key.startswith("@")
        for value in _as_list(values)
        if isinstance(value, dict) and "@id" in value
    }

    def convert(node):
        out = {"@type": sorted(_types(node))}
        for key, values in node.items():
            if key.startswith("@"):
                continue
            converted = []
            for value in values:
                if "@value" in value:
                    converted.append(value["@value"])
                elif value.get("@id") in by_id:
                    converted.append(convert(by_id[value["@id"]]))
                else:
                    converted.append(value.get("@id"))
            out[_short(key)] = converted[0] if len(converted) == 1 else converted
        return out

    return [convert(node) for node in nodes if node.get("@id") not in referenced and _types(node)]


def _event(item):
    types = _types(item)
    work = item.get("workPerformed") or {}
    return {
        "type": (types & EVENT_TYPES).pop() if types & EVENT_TYPES else None,
        "name": item.get("name"),
        "startDate": item.get("startDate"),
        "endDate": item.get("endDate"),
        "keywords": item.get("keywords", ""),
        "song": work.get("name") if isinstance(work, dict) else None,
        "song_type": sorted(_types(work)) if isinstance(work, dict) else None,
        "performer": [
            {"type": sorted(_types(p)), "name": p.get("name"), "sameAs": p.get("sameAs")}
            for p in _as_list(item.get("performer"))
        ],
        "offers": [
            {
                "type": sorted(_types(o)),
                "name": o.get("name"),
                "price": str(o.get("price")),
                "priceCurrency": o.get("priceCurrency"),
                "url": o.get("url"),
            }
            for o in _as_list(item.get("offers"))
        ],
        "subEvent": [
            {
                "type": sorted(_types(s)),
                "name": s.get("name"),
                "startDate": s.get("startDate"),
                "endDate": s.get("endDate"),
            }
            for s in _as_list(item.get("subEvent"))
        ],
    }


def events(data, syntax):
    """The top-level schema.org events that ``syntax`` carries in extruct's output ``data``."""
    items = data.get(syntax, [])
    if syntax == "rdfa":
        items = _rdfa_tree(items)
    found = [_event(item) for item in items if _types(item) & EVENT_TYPES]
    if syntax == "rdfa":
        # RDF is a graph: neither the events nor a property's values keep the page's order.
        for event in found:
            event["subEvent"].sort(key=lambda s: s["startDate"])
        found.sort(key=lambda e: (e["startDate"], e["name"]))
    return found


def all_events(data):
    return {syntax: events(data, syntax) for syntax in SYNTAXES}

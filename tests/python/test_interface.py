#!/usr/bin/python3
"""Interface snapshot: every onepass element's pads, properties (type,
flags, default, range), signals and messages-relevant metadata, dumped as
JSON and compared with the committed tests/python/interface.json.

An interface change (a renamed property, a new default, a range that no
longer matches what the element accepts) then shows up as a diff in review.
After an intended change, regenerate the file:

    ONEPASS_UPDATE_INTERFACE=1 meson test -C build python/interface
"""
import json
import os
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GObject, Gst  # noqa: E402

SNAPSHOT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "interface.json")
KNOWN = ["annotfilter", "annotoverlay", "batchsink", "compositor328",
         "cropextract", "framestats", "ramcache"]


FLAG_BITS = {
    "readable": GObject.ParamFlags.READABLE,
    "writable": GObject.ParamFlags.WRITABLE,
    "construct": GObject.ParamFlags.CONSTRUCT,
    "controllable": Gst.PARAM_CONTROLLABLE,
    "mutable-ready": Gst.PARAM_MUTABLE_READY,
    "mutable-paused": Gst.PARAM_MUTABLE_PAUSED,
    "mutable-playing": Gst.PARAM_MUTABLE_PLAYING,
}


def plain(value):
    """A JSON-friendly value: floats as repr, so 0.1 stays 0.1 exactly."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    return repr(value)


def describe_property(pspec):
    d = {
        "type": GObject.type_name(pspec.value_type),
        "flags": sorted(f for f, bit in FLAG_BITS.items()
                        if pspec.flags & bit),
        "blurb": pspec.blurb,
    }
    default = pspec.default_value
    if hasattr(pspec, "enum_class"):
        d["default"] = default.value_nick
        d["values"] = sorted(v.value_nick
                             for v in pspec.enum_class.__enum_values__.values())
    elif hasattr(pspec, "flags_class"):
        d["default"] = int(default)
    else:
        d["default"] = plain(default)
    for attr in ("minimum", "maximum"):
        if hasattr(pspec, attr):
            d[attr] = plain(getattr(pspec, attr))
    return d


def describe(factory):
    element = factory.create(None)
    d = {
        "klass": factory.get_metadata("klass"),
        "rank": factory.get_rank(),
        "pads": [],
        "properties": {},
        "signals": sorted(GObject.signal_list_names(type(element))),
    }
    for t in factory.get_static_pad_templates():
        d["pads"].append({
            "name": t.name_template,
            "direction": t.direction.value_nick,
            "presence": t.presence.value_nick,
            "caps": t.get_caps().to_string(),
        })
    d["pads"].sort(key=lambda p: p["name"])
    for pspec in element.list_properties():
        # ours only: base-class properties follow the GStreamer version
        if not GObject.type_name(pspec.owner_type).startswith("Op"):
            continue
        d["properties"][pspec.name] = describe_property(pspec)
    return d


def main():
    Gst.init(None)
    reg = Gst.Registry.get()
    factories = [f for f in reg.get_feature_list(Gst.ElementFactory)
                 if f.get_plugin() is not None
                 and f.get_plugin().get_package() == "onepass"]
    names = sorted(f.get_name() for f in factories)
    missing = [n for n in KNOWN if n not in names]
    if missing:
        print("FAIL: onepass elements not found in the registry: %s"
              % ", ".join(missing))
        return 1
    snap = {f.get_name(): describe(f)
            for f in sorted(factories, key=lambda f: f.get_name())}
    text = json.dumps(snap, indent=1, sort_keys=True) + "\n"
    if os.environ.get("ONEPASS_UPDATE_INTERFACE"):
        with open(SNAPSHOT, "w") as f:
            f.write(text)
        print("interface.json written (%d elements)" % len(snap))
        return 0
    try:
        want = open(SNAPSHOT).read()
    except OSError:
        print("FAIL: %s is missing; run with ONEPASS_UPDATE_INTERFACE=1"
              % SNAPSHOT)
        return 1
    if want != text:
        import difflib
        sys.stdout.writelines(difflib.unified_diff(
            want.splitlines(True), text.splitlines(True),
            "interface.json (committed)", "interface (built)", n=2))
        print("FAIL: the elements' interface differs from interface.json; "
              "if intended, regenerate it (see the top of this file)")
        return 1
    print("interface: %d elements match interface.json" % len(snap))
    return 0


if __name__ == "__main__":
    sys.exit(main())

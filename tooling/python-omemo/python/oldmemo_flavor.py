"""OMEMO 0.3 (eu.siacs.conversations.axolotl) for omemo_harness.py: python-oldmemo (Debian's python3-oldmemo)."""
import oldmemo
import oldmemo.etree

from omemo_harness import Flavor

FLAVOR = Flavor(
    name="oldmemo",
    namespace=oldmemo.oldmemo.NAMESPACE,
    version=oldmemo.version.__version__["short"],
    make_backend=oldmemo.Oldmemo,
    serialize_bundle=oldmemo.etree.serialize_bundle,
    parse_bundle=oldmemo.etree.parse_bundle,
    serialize_device_list=oldmemo.etree.serialize_device_list,
    parse_device_list=oldmemo.etree.parse_device_list,
    serialize_message=oldmemo.etree.serialize_message,
    # the 0.3 wire format has no sender key: python-oldmemo asks the session manager for it
    parse_message=oldmemo.etree.parse_message,
    refresh_sender_before_decrypt=False,
)

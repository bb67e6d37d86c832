"""A minimal ISO Schematron (queryBinding xslt2) -> XSLT 3.0 compiler, enough for the Peppol
BIS Billing 3.0 rules file (no includes, no abstract patterns, no phases). Semantics as the
ISO skeleton: within a pattern a node fires only the first rule whose context it matches;
every node of the document is visited once per pattern. Output: SVRL failed-asserts.

Usage: python compile_sch.py IN.sch OUT.xslt
"""

import sys

from lxml import etree

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"


def q(ns, tag):
    return f"{{{ns}}}{tag}"


def main(src, dst):
    schema = etree.parse(src).getroot()
    nsmap = {"xsl": XSL, "svrl": SVRL}
    for ns in schema.findall(q(SCH, "ns")):
        nsmap[ns.get("prefix")] = ns.get("uri")
    out = etree.Element(q(XSL, "stylesheet"), nsmap=nsmap, version="3.0")
    etree.SubElement(out, q(XSL, "output"), method="xml", indent="yes")

    # global lets (schema level and pattern level), functions
    def add_global_let(let):
        v = etree.SubElement(out, q(XSL, "variable"), name=let.get("name"))
        v.set("select", let.get("value"))

    for child in schema:
        if not isinstance(child.tag, str):
            continue
        if child.tag == q(SCH, "let"):
            add_global_let(child)
        elif child.tag == q(XSL, "function"):
            out.append(etree.fromstring(etree.tostring(child)))
    patterns = schema.findall(q(SCH, "pattern"))
    for pattern in patterns:
        for let in pattern.findall(q(SCH, "let")):
            add_global_let(let)

    root_t = etree.SubElement(out, q(XSL, "template"), match="/")
    so = etree.SubElement(root_t, q(SVRL, "schematron-output"))
    for i, _pattern in enumerate(patterns):
        etree.SubElement(so, q(XSL, "apply-templates"), select="/", mode=f"P{i}")

    for i, pattern in enumerate(patterns):
        mode = f"P{i}"
        rules = pattern.findall(q(SCH, "rule"))
        for j, rule in enumerate(rules):
            t = etree.SubElement(
                out,
                q(XSL, "template"),
                match=rule.get("context"),
                mode=mode,
                priority=str(10000 - j),
            )
            fr = etree.SubElement(t, q(SVRL, "fired-rule"))
            fr.set("context", rule.get("context"))
            for item in rule:
                if not isinstance(item.tag, str):
                    continue
                if item.tag == q(SCH, "let"):
                    v = etree.SubElement(t, q(XSL, "variable"), name=item.get("name"))
                    v.set("select", item.get("value"))
                elif item.tag in (q(SCH, "assert"), q(SCH, "report")):
                    test = item.get("test")
                    cond = f"not({test})" if item.tag == q(SCH, "assert") else f"({test})"
                    iff = etree.SubElement(t, q(XSL, "if"), test=cond)
                    fa = etree.SubElement(iff, q(SVRL, "failed-assert"))
                    fa.set("id", item.get("id", "?"))
                    fa.set("flag", item.get("flag", "fatal"))
                    fa.set("test", test)
                    loc = etree.SubElement(fa, q(XSL, "attribute"), name="location")
                    loc.set("select", "path()")
                    text = etree.SubElement(fa, q(SVRL, "text"))
                    # message text with value-of / name
                    text.text = item.text or ""
                    for sub in item:
                        if sub.tag == q(SCH, "value-of"):
                            etree.SubElement(text, q(XSL, "value-of"), select=sub.get("select"))
                        elif sub.tag == q(SCH, "name"):
                            etree.SubElement(
                                text, q(XSL, "value-of"), select=f"name({sub.get('path', '.')})"
                            )
                        if sub.tail:
                            last = text[-1] if len(text) else None
                            if last is not None:
                                last.tail = (last.tail or "") + sub.tail
                            else:
                                text.text += sub.tail
            etree.SubElement(t, q(XSL, "apply-templates"), select="@*|*", mode=mode)
        fallback = etree.SubElement(
            out, q(XSL, "template"), match="@*|node()", mode=mode, priority="-10"
        )
        etree.SubElement(fallback, q(XSL, "apply-templates"), select="@*|*", mode=mode)
    etree.ElementTree(out).write(dst, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    print(
        f"{len(patterns)} patterns, {sum(len(p.findall(q(SCH, 'rule'))) for p in patterns)} "
        f"rules, {len(schema.findall('.//' + q(SCH, 'assert')))} asserts -> {dst}"
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

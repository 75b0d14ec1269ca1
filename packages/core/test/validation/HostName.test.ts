/**
 * Host names as the website, domain and email rules compare them: every RFC 1123 name (lower case ASCII,
 * as `URL` and `domainToASCII` give them) is a domain name, every way a host falls short is said in words,
 * keys drop a final dot and leading `www.` labels, and the hosting platforms are recognised with their
 * subdomains only.
 */
import { domainToASCII } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import {
  domainKey,
  domainKeyOf,
  hostingPlatforms,
  hostProblem,
  platformOf,
  withoutFinalDot,
  withoutWww
} from "../../src/validation/HostName.ts"

const label = (length: number, char = "a") => char.repeat(length)

/** Domain names with room for three `www.` labels and a final dot within 253 characters. */
const shortDomain = fc.domain().filter((host) => host.length <= 240)

describe("hostProblem", () => {
  it("accepts the domain names real websites and addresses use", () => {
    for (const host of [
      "monongaliacounty.com",
      "www.wvu.edu",
      "shop.acme.co.uk",
      "a1-b2.example.org",
      "123.example.com",
      "example.museum",
      new URL("https://Acme.COM./about").hostname.replace(/\.$/, ""),
      domainToASCII("münchen.de"),
      domainToASCII("пример.рф")
    ]) {
      assert.isNull(hostProblem(host), host)
    }
    assert.strictEqual(domainToASCII("пример.рф"), "xn--e1afmkfd.xn--p1ai", "a punycode top-level domain")
  })

  it("says why a host is not a domain name", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["", "is empty"],
      ["192.168.0.1", "is an IP address, not a domain name"],
      ["[::1]", "is an IP address, not a domain name"],
      [new URL("http://[2001:db8::1]/").hostname, "is an IP address, not a domain name"],
      ["localhost", "has no top-level domain (like .com)"],
      ["example..com", "has an empty label (two dots in a row, or a leading dot)"],
      [".example.com", "has an empty label (two dots in a row, or a leading dot)"],
      ["example.com.", "has an empty label (two dots in a row, or a leading dot)"],
      [`${label(64)}.com`, "has a label longer than 63 characters"],
      ["-acme.com", "has a part (-acme) that starts or ends with a hyphen"],
      ["shop.acme-.com", "has a part (acme-) that starts or ends with a hyphen"],
      ["acme_corp.com", "has a character a domain name cannot hold (in acme_corp)"],
      ["Acme.com", "has a character a domain name cannot hold (in Acme)"],
      ["münchen.de", "has a character a domain name cannot hold (in münchen)"],
      ["acme.c0m", "has a top-level domain (.c0m) that is not letters"],
      ["acme.c", "has a top-level domain (.c) that is not letters"],
      ["10.0.0", "has a top-level domain (.0) that is not letters"],
      ["1.2.3.4.5", "has a top-level domain (.5) that is not letters"]
    ]
    for (const [host, problem] of cases) assert.strictEqual(hostProblem(host), problem, host)
  })

  it("allows 253 characters and labels of 63, and not one more", () => {
    const longest = [label(63), label(63), label(63), label(61)].join(".")
    assert.strictEqual(longest.length, 253)
    assert.isNull(hostProblem(longest))
    assert.strictEqual(hostProblem(`${longest}a`), "is longer than 253 characters")
    assert.isNull(hostProblem(`${label(63)}.com`))
    assert.isNull(hostProblem(`acme.${label(63)}`))
    assert.strictEqual(hostProblem(`acme.${label(64)}`), "has a label longer than 63 characters")
  })

  it("names the first label at fault, in the order the checks run", () => {
    assert.strictEqual(hostProblem("a_b.-c.com"), "has a character a domain name cannot hold (in a_b)")
    assert.strictEqual(hostProblem("-a.b_c.com"), "has a part (-a) that starts or ends with a hyphen")
    assert.strictEqual(hostProblem("a..b_c"), "has an empty label (two dots in a row, or a leading dot)")
  })

  it("property: every RFC 1123 domain name passes, and breaking one is caught", () => {
    fc.assert(
      fc.property(fc.domain(), (host) => {
        assert.isNull(hostProblem(host))
        assert.isNotNull(hostProblem(host.toUpperCase()), "upper case is not what callers pass")
        assert.isNotNull(hostProblem(host.replace(".", "..")))
        assert.isNotNull(hostProblem(`${host}.1`))
        assert.isNotNull(hostProblem(host.replace(".", "_.")))
        assert.isNotNull(hostProblem(host.split(".").at(-1)!))
      }),
      { numRuns: 500 }
    )
  })
})

describe("withoutFinalDot, withoutWww and domainKey", () => {
  it("drops one final dot", () => {
    assert.strictEqual(withoutFinalDot("example.com."), "example.com")
    assert.strictEqual(withoutFinalDot("example.com"), "example.com")
    assert.strictEqual(withoutFinalDot("example.com.."), "example.com.")
    assert.strictEqual(withoutFinalDot(""), "")
  })

  it("drops leading www. labels while two labels remain", () => {
    assert.strictEqual(withoutWww("www.example.com"), "example.com")
    assert.strictEqual(withoutWww("www.www.example.com"), "example.com")
    assert.strictEqual(withoutWww("www.com"), "www.com")
    assert.strictEqual(withoutWww("www.www.com"), "www.com")
    assert.strictEqual(withoutWww("www.example"), "www.example")
    for (const kept of ["wwwexample.com", "www2.example.com", "shop.www.example.com", "example.com"]) {
      assert.strictEqual(withoutWww(kept), kept)
    }
  })

  it("keys a host without its final dot and www.", () => {
    assert.strictEqual(domainKey("www.monongaliacounty.com."), "monongaliacounty.com")
    assert.strictEqual(domainKey("shop.acme.com"), "shop.acme.com")
    assert.strictEqual(domainKey(new URL("https://WWW.Acme.com./x").hostname), "acme.com")
  })

  it("domainKeyOf keys domain names and refuses the rest", () => {
    assert.strictEqual(domainKeyOf("www.monongaliacounty.com."), "monongaliacounty.com")
    assert.strictEqual(domainKeyOf(domainToASCII("WWW.München.DE")), "xn--mnchen-3ya.de")
    for (const host of [
      "",
      "localhost",
      "192.168.0.1",
      "[::1]",
      "example.com..",
      "Acme.com",
      "acme_corp.com"
    ]) {
      assert.isNull(domainKeyOf(host), host)
    }
  })

  it("property: the key of a domain name is a domain name, a fixed point, and the same with www. or a final dot", () => {
    fc.assert(
      fc.property(shortDomain, fc.nat({ max: 3 }), fc.boolean(), (host, www, dot) => {
        const key = domainKey(host)
        const written = `${"www.".repeat(www)}${host}${dot ? "." : ""}`
        assert.strictEqual(domainKeyOf(written), key)
        assert.strictEqual(domainKey(written), key)
        assert.strictEqual(domainKey(key), key)
        assert.isNull(hostProblem(key))
        assert.isTrue(host === key || host.endsWith(`.${key}`), "the key is the host or a parent of it")
      }),
      { numRuns: 500 }
    )
  })
})

describe("hosting platforms", () => {
  it("recognises each platform and its subdomains", () => {
    assert.deepStrictEqual([...hostingPlatforms].sort(), [
      "facebook.com",
      "fb.com",
      "instagram.com",
      "linkedin.com",
      "twitter.com",
      "yelp.com",
      "youtube.com"
    ])
    for (const platform of hostingPlatforms) {
      assert.strictEqual(platformOf(platform), platform)
      assert.strictEqual(platformOf(`m.${platform}`), platform)
      assert.strictEqual(platformOf(`a.b.${platform}`), platform)
    }
    assert.strictEqual(platformOf(domainKey("www.facebook.com")), "facebook.com")
    assert.strictEqual(platformOf("business.linkedin.com"), "linkedin.com")
  })

  it("does not take a company's own domain for a platform because its name ends alike", () => {
    for (const key of [
      "notfacebook.com",
      "myyelp.com",
      "facebook.com.example.org",
      "facebook.co",
      "linkedin.company.com",
      "monongaliacounty.com"
    ]) {
      assert.isUndefined(platformOf(key), key)
    }
  })
})

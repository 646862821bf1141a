import { describe, expect, it } from "vitest";
import { OpenReplies, type OpenReply } from "./open-replies.js";

class Entry implements OpenReply<Entry> {
  previousOpen: Entry | undefined;
  nextOpen: Entry | undefined;
  constructor(readonly name: string) {}
}

const names = (list: OpenReplies<Entry>) => list.toArray().map((entry) => entry.name);

describe("OpenReplies", () => {
  it("lists what was added and not taken out, from the first, the middle and the last place", () => {
    const list = new OpenReplies<Entry>();
    const [a, b, c, d] = ["a", "b", "c", "d"].map((name) => new Entry(name)) as [Entry, Entry, Entry, Entry];
    for (const entry of [a, b, c, d]) list.add(entry);
    expect(names(list)).toEqual(["d", "c", "b", "a"]);
    list.delete(c);
    expect(names(list)).toEqual(["d", "b", "a"]);
    list.delete(d);
    expect(names(list)).toEqual(["b", "a"]);
    list.delete(a);
    expect(names(list)).toEqual(["b"]);
    list.delete(b);
    expect(names(list)).toEqual([]);
    list.add(c);
    expect(names(list)).toEqual(["c"]);
  });

  it("leaves the list alone when a reply is taken out twice", () => {
    const list = new OpenReplies<Entry>();
    const [a, b] = [new Entry("a"), new Entry("b")];
    list.add(a);
    list.add(b);
    list.delete(b);
    list.delete(b);
    expect(names(list)).toEqual(["a"]);
    list.delete(a);
    list.delete(a);
    expect(names(list)).toEqual([]);
  });
});

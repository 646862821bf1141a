// The exchanges a front has under way, for the drain deadline (HttpFront.interruptExchanges). They are
// linked through the replies themselves: a Set that grows and shrinks around a few entries, as it does
// with requests one at a time on a connection, reallocates its table on every add and delete.

/** A reply's links in its front's list; set by OpenReplies only. */
export interface OpenReply<T> {
  previousOpen: T | undefined;
  nextOpen: T | undefined;
}

export class OpenReplies<T extends OpenReply<T>> {
  private first: T | undefined;

  add(reply: T): void {
    reply.nextOpen = this.first;
    if (this.first !== undefined) this.first.previousOpen = reply;
    this.first = reply;
  }

  /** Takes `reply` out; one that is not in the list (taken out already) is left alone. */
  delete(reply: T): void {
    const { previousOpen, nextOpen } = reply;
    if (previousOpen !== undefined) previousOpen.nextOpen = nextOpen;
    else if (this.first === reply) this.first = nextOpen;
    else return;
    if (nextOpen !== undefined) nextOpen.previousOpen = previousOpen;
    reply.previousOpen = undefined;
    reply.nextOpen = undefined;
  }

  /** The replies in the list now, newest first; the list may change while the copy is walked. */
  toArray(): T[] {
    const replies: T[] = [];
    for (let reply = this.first; reply !== undefined; reply = reply.nextOpen) replies.push(reply);
    return replies;
  }
}

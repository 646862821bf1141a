import { request } from "node:http";

export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/**
 * A JSON POST on a connection of its own, so the kernel may hand it to any lane; rejects when the
 * connection ends without a whole answer.
 */
export function postOnOwnConnection(url: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", agent: false, headers: { "content-type": "application/json" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers["content-type"] ?? "",
            body: text,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

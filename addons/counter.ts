/**
 * Counts finished HTTP flows and logs the count every `counter_log_every` flows
 * (0: never). Commands: `counter.show` prints the count, `counter.reset` zeroes it.
 *
 *   pryx dump -s addons/counter.ts --set counter_log_every=100
 */
import type { Addon, Loader, http } from "pryx";

class Counter implements Addon {
  readonly name = "counter";
  count = 0;
  private every = 0;
  private loader: Loader | undefined;

  load(loader: Loader): void {
    this.loader = loader;
    loader.add_option("counter_log_every", "int", 0, "Log the flow count every N flows (0: never).");
    loader.add_command("counter.show", () => `${this.count} flows`, "Show how many flows the counter has seen.");
    loader.add_command("counter.reset", () => {
      this.count = 0;
      return "counter reset";
    }, "Reset the flow counter to 0.");
  }

  configure(updated: Set<string>): void {
    if (updated.has("counter_log_every")) {
      const every = Number(this.loader?.options["counter_log_every"] ?? 0);
      if (every < 0) throw new Error(`counter_log_every must be 0 or more, got ${every}`);
      this.every = every;
    }
  }

  response(_flow: http.HTTPFlow): void {
    this.bump();
  }

  error(_flow: http.HTTPFlow): void {
    this.bump();
  }

  private bump(): void {
    this.count++;
    if (this.every > 0 && this.count % this.every === 0) console.log(`counter: ${this.count} flows`);
  }
}

export default new Counter();

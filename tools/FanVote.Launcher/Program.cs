using FanVote.Launcher;

// plan FILE                     print what `up` would start
// secrets --state DIR FILE       create the missing secrets of FILE's apps in DIR/secrets.env (0600); print nothing secret
// up FILE --state DIR --sidecar DLL [--resources DIR [--config FILE]] [--env-file F ...] [--env K=V ...] [--timeout SECONDS]
// down --state DIR
try
{
    switch (args)
    {
        case ["plan", var runFile, ..]:
            foreach (var app in RunFile.Load(runFile))
            {
                Console.WriteLine($"{app.AppId}\t{app.AppDirPath}\t{string.Join(' ', app.Command)}\t{string.Join(' ', app.DaprdArgs(app.DaprHttpPort ?? 0, app.DaprGrpcPort ?? 0))}");
            }

            return 0;
        case ["secrets", .. var rest] when rest.Length >= 3:
        {
            var values = Secrets.Ensure(Options(rest)["state"], RunFile.Load(rest[^1]).Select(a => a.AppId));
            Console.WriteLine($"{values.Count} secrets in {Path.Combine(Options(rest)["state"], Secrets.FileName)}");
            return 0;
        }

        case ["up", var runFile, .. var rest]:
        {
            var opts = Options(rest);
            var supervisor = new Supervisor(opts["state"], opts["sidecar"], Console.Out);
            // Settings from files first (secrets never travel on a command line, where any local user could read them).
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < rest.Length - 1; i++)
            {
                if (rest[i] == "--env-file")
                {
                    foreach (var (k, v) in Secrets.Read(rest[i + 1]))
                    {
                        env[k] = v;
                    }
                }
            }

            foreach (var kv in rest.SkipWhile(a => a != "--env").Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).Select(kv => kv.Split('=', 2)))
            {
                env[kv[0]] = kv.Length > 1 ? kv[1] : "";
            }

            var timeout = TimeSpan.FromSeconds(opts.TryGetValue("timeout", out var t) ? int.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : 180);
            var apps = RunFile.Load(runFile);
            if (opts.TryGetValue("resources", out var resources))
            {
                apps = RunFile.WithRegion(apps, resources, opts.GetValueOrDefault("config"));
            }

            await supervisor.UpAsync(apps, env, timeout);
            return 0;
        }

        case ["down", .. var rest]:
        {
            var stopped = await new Supervisor(Options(rest)["state"], "", Console.Out).DownAsync();
            Console.WriteLine($"stopped {stopped} process(es)");
            return 0;
        }

        default:
            await Console.Error.WriteLineAsync("usage: FanVote.Launcher plan FILE | secrets --state DIR FILE | up FILE --state DIR --sidecar DLL [--resources DIR [--config FILE]] [--env-file F ...] [--env K=V ...] | down --state DIR");
            return 2;
    }
}
catch (RunFileException e)
{
    await Console.Error.WriteLineAsync($"fanvote: {e.Message}");
    return 1;
}

static Dictionary<string, string> Options(string[] rest)
{
    var d = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < rest.Length - 1; i++)
    {
        if (rest[i].StartsWith("--", StringComparison.Ordinal) && rest[i] != "--env" && rest[i] != "--env-file")
        {
            d[rest[i][2..]] = rest[i + 1];
        }
    }

    return d;
}

using FanVote.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FanVote.ServiceDefaults.Transport;

/// <summary>
/// <c>{windowId:id}</c>: the route matches only a valid id (<see cref="Ids.IsValid"/>), so `a||b`, 7 KB ids or ids
/// with NUL never reach a handler, a state key or a log line; such a path answers 404 like any unknown route.
/// </summary>
public sealed class IdRouteConstraint : IRouteConstraint
{
    public const string Name = "id";

    public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.TryGetValue(routeKey, out var v) && Ids.IsValid(Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture));
    }
}

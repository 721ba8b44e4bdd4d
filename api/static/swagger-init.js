/* /docs: boots Swagger UI (served from /docs/static, an installed package's files) with FastAPI's default
   settings, from a file because the Content-Security-Policy allows no inline script (api/security_headers.py).
   No online validator: the page loads nothing from another site. */
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
})();

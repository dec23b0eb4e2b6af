// Swagger UI on the Worker's own OpenAPI document. A file, not an inline script, so a strict
// Content-Security-Policy can forbid inline code.
window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });

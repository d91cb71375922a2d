// The widget manager (embed-amd.js) typesets widget output with MathJax 2's MathJax.Hub.Queue;
// the book loads MathJax 3, which has no Hub. This maps the call onto MathJax 3's typesetPromise,
// both before MathJax 3 has loaded (on its configuration object) and after (in startup.ready).
(function () {
  var hub = {
    Queue: function () {
      if (window.MathJax && window.MathJax.typesetPromise) { window.MathJax.typesetPromise(); }
    },
  };
  var config = window.MathJax = window.MathJax || {};
  config.Hub = hub;
  config.startup = config.startup || {};
  config.startup.ready = function () {
    window.MathJax.startup.defaultReady();
    window.MathJax.Hub = hub;
  };
})();

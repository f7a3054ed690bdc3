// Kiosk inactivity: a page with data-idle signs the person out after that
// many seconds without a touch, a key or a click, so the next person at the
// terminal never finds someone else signed in.
(function () {
  var root = document.querySelector('[data-idle]');
  var form = document.getElementById('kiosk-signout');
  if (!root || !form) return;
  var seconds = parseInt(root.getAttribute('data-idle'), 10) || 90;
  var timer;
  function reset() {
    clearTimeout(timer);
    timer = setTimeout(function () { form.submit(); }, seconds * 1000);
  }
  ['pointerdown', 'keydown', 'touchstart', 'scroll'].forEach(function (e) {
    document.addEventListener(e, reset, { passive: true });
  });
  reset();
})();

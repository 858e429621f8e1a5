// Voice notes recorded in the browser (MediaRecorder). Progressive
// enhancement: without MediaRecorder the plain file input stays and works.
(function () {
  "use strict";
  var form = document.getElementById("deputy-form");
  var box = document.getElementById("recorder");
  if (!form || !box || !window.MediaRecorder || !navigator.mediaDevices || !window.DataTransfer) return;
  var input = form.querySelector('input[type="file"][name="voice"]');
  var start = document.getElementById("record-start");
  var stop = document.getElementById("record-stop");
  var status = document.getElementById("record-status");
  var preview = document.getElementById("record-preview");
  var recorder = null, chunks = [], started = 0, timer = null;
  // The page gives its words in the reader's language (data-*), Chinese otherwise.
  var words = box.dataset;
  box.hidden = false;

  function type() {
    var types = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];
    for (var i = 0; i < types.length; i++) if (MediaRecorder.isTypeSupported(types[i])) return types[i];
    return "";
  }

  function tick() {
    var s = Math.round((Date.now() - started) / 1000);
    status.textContent = (words.recording || "录音中") + " " + Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
  }

  start.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var mime = type();
      recorder = new MediaRecorder(stream, mime ? { mimeType: mime } : undefined);
      chunks = [];
      recorder.ondataavailable = function (e) { if (e.data.size) chunks.push(e.data); };
      recorder.onstop = function () {
        stream.getTracks().forEach(function (t) { t.stop(); });
        clearInterval(timer);
        var blobType = (recorder.mimeType || "audio/webm").split(";")[0];
        var ext = blobType.indexOf("mp4") >= 0 ? "m4a" : blobType.indexOf("ogg") >= 0 ? "ogg" : "webm";
        var file = new File(chunks, "录音." + ext, { type: blobType });
        var list = new DataTransfer();
        list.items.add(file);
        input.files = list.files;  // sent with the form like a chosen file
        preview.src = URL.createObjectURL(file);
        preview.hidden = false;
        status.textContent = words.recorded || "已录好，可以试听；提交即上传。";
        start.disabled = false; stop.disabled = true;
      };
      recorder.start(1000);
      started = Date.now(); tick(); timer = setInterval(tick, 1000);
      start.disabled = true; stop.disabled = false;
    }).catch(function () {
      status.textContent = words.denied || "无法使用麦克风，请选择录音文件上传。";
    });
  });
  stop.addEventListener("click", function () { if (recorder && recorder.state !== "inactive") recorder.stop(); });
})();

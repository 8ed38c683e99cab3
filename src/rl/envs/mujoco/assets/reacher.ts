// Reacher (Gymnasium Reacher-v5's model), written for fimkit from the documented facts: a two-link
// planar arm 1 cm above the table (capsules of 0.1 m, radius 0.01; the first hinge unlimited, the
// second limited to ±3 rad; armature 1, damping 1), a fingertip sphere (radius 0.01) 0.11 m out
// on the second link, two 200-gear motors with control in [−1, 1], and a target sphere (radius
// 0.009) on two slide joints whose positions are the goal's (x, y), limited to ±0.27 and referred
// to (0.1, −0.1). RK4 at 10 ms. Nothing collides; the decorative arena is left out. The fingertip
// and target are bodies: their frames' positions enter the observation and the reward.
export const REACHER_XML = `
<mujoco model="fimkit-reacher">
  <compiler angle="radian" inertiafromgeom="true"/>
  <option timestep="0.01" gravity="0 0 -9.81" integrator="RK4"/>
  <default>
    <joint limited="true" armature="1" damping="1"/>
    <geom contype="0" conaffinity="0" friction="1 0.1 0.1"/>
  </default>
  <worldbody>
    <body name="body0" pos="0 0 0.01">
      <joint name="joint0" type="hinge" axis="0 0 1" limited="false"/>
      <geom name="link0" type="capsule" fromto="0 0 0 0.1 0 0" size="0.01"/>
      <body name="body1" pos="0.1 0 0">
        <joint name="joint1" type="hinge" axis="0 0 1" range="-3 3"/>
        <geom name="link1" type="capsule" fromto="0 0 0 0.1 0 0" size="0.01"/>
        <body name="fingertip" pos="0.11 0 0">
          <geom name="fingertip" type="sphere" size="0.01"/>
        </body>
      </body>
    </body>
    <body name="target" pos="0.1 -0.1 0.01">
      <joint name="target_x" type="slide" axis="1 0 0" range="-0.27 0.27" ref="0.1" armature="0" damping="0" stiffness="0"/>
      <joint name="target_y" type="slide" axis="0 1 0" range="-0.27 0.27" ref="-0.1" armature="0" damping="0" stiffness="0"/>
      <geom name="target" type="sphere" size="0.009"/>
    </body>
  </worldbody>
  <actuator>
    <motor name="joint0" joint="joint0" gear="200" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="joint1" joint="joint1" gear="200" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
`;
